/*
 * A C host embedding Kiln through kiln.h: loads a module, gives it host functions, runs
 * it and calls its exports under limits, and prints the ledger and each trap.
 *
 *   cc -I capi/include examples/c_host/host.c target/release/libkiln.a -lpthread -ldl -lm -o host
 *   vmc build examples/c_host/app.kiln -o app.bc && ./host app.bc DIR
 *
 * DIR is granted for reading and writing, and stdin to one instance. KILN_HOST_TIER (0, 1,
 * 2) picks the tier. Every
 * handle and string is freed: the tests run this under valgrind's memcheck.
 */
#include "kiln.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int host_scale(void *user_data, kiln_caller *caller, const kiln_val *args, size_t nargs, kiln_val *result) {
    (void)nargs;
    int64_t factor = *(const int64_t *)user_data;
    if (kiln_caller_charge_fuel(caller, 5) != 0) return 1;
    result->type = KILN_INT;
    result->of.i = args[0].of.i * factor;
    return 0;
}

static int host_tag(void *user_data, kiln_caller *caller, const kiln_val *args, size_t nargs, kiln_val *result) {
    (void)user_data; (void)caller; (void)nargs;
    static char buf[64];
    snprintf(buf, sizeof buf, "<%.*s>", (int)args[0].of.s.len, args[0].of.s.ptr);
    result->type = KILN_STR;
    result->of.s.ptr = buf; /* copied by the library as soon as we return */
    result->of.s.len = strlen(buf);
    return 0;
}

static int host_fail(void *user_data, kiln_caller *caller, const kiln_val *args, size_t nargs, kiln_val *result) {
    (void)user_data; (void)nargs; (void)result;
    char msg[64];
    snprintf(msg, sizeof msg, "refused with code %lld", (long long)args[0].of.i);
    kiln_caller_fail(caller, msg);
    return 1;
}

static const char *trap_name(kiln_trap t) {
    static const char *names[] = {"none", "fuel", "heap", "stack", "timeout", "interrupted", "output", "host", "program"};
    return t <= KILN_TRAP_PROGRAM ? names[t] : "?";
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(bytes, 1, (size_t)n, f);
    fclose(f);
    return bytes;
}

static int64_t factor = 2;

/* A config with the host functions and the given limits. */
static kiln_config *config_with(uint64_t fuel, uint64_t heap, uint64_t stack, uint64_t timeout_ms, uint64_t output) {
    kiln_config *c = kiln_config_new();
    kiln_type int1[] = {KILN_INT}, str1[] = {KILN_STR};
    kiln_config_define(c, "host_scale", int1, 1, true, KILN_INT, host_scale, &factor);
    kiln_config_define(c, "host_tag", str1, 1, true, KILN_STR, host_tag, NULL);
    kiln_config_define(c, "host_fail", int1, 1, true, KILN_INT, host_fail, NULL);
    kiln_config_capture_output(c);
    if (getenv("KILN_HOST_TIER")) kiln_config_set_tier(c, atoi(getenv("KILN_HOST_TIER")));
    if (fuel) kiln_config_set_fuel(c, fuel);
    if (heap) kiln_config_set_max_heap(c, heap);
    if (stack) kiln_config_set_max_stack(c, stack);
    if (timeout_ms) kiln_config_set_timeout_ms(c, timeout_ms);
    if (output) kiln_config_set_max_output(c, output);
    return c;
}

/* Calls `fn` with no arguments in a fresh instance and reports how it ended. */
static void expect_trap(const kiln_module *m, const char *fn, kiln_config *c) {
    char *error = NULL;
    kiln_instance *inst = kiln_instance_new(m, c, &error);
    if (!inst) {
        printf("%s: cannot instantiate: %s\n", fn, error);
        kiln_string_free(error);
        kiln_config_free(c);
        return;
    }
    kiln_status st = kiln_instance_call(inst, fn, NULL, 0, NULL, NULL, NULL, &error);
    kiln_stats s;
    kiln_instance_stats(inst, &s);
    printf("%s: status %d, trap %s, heap live after %llu\n", fn, (int)st, trap_name(kiln_instance_trap(inst)),
           (unsigned long long)s.heap_live_bytes);
    if (error) printf("  %.*s\n", (int)strcspn(error, "\n"), error);
    kiln_string_free(error);
    /* A trapped instance refuses further calls. */
    error = NULL;
    st = kiln_instance_call(inst, "add", NULL, 0, NULL, NULL, NULL, &error);
    printf("  again: status %d (%s)\n", (int)st, error ? error : "");
    kiln_string_free(error);
    kiln_instance_free(inst);
    kiln_config_free(c);
}

struct stopper { kiln_interrupt_handle *handle; };

static void *interrupt_later(void *arg) {
    struct stopper *s = arg;
    usleep(20 * 1000);
    kiln_interrupt(s->handle);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: host app.bc DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear in order with the library's stderr */
    size_t len = 0;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    char *error = NULL;
    kiln_engine *engine = kiln_engine_new();

    /* Bad bytecode is an error message, not a crash. */
    kiln_module *bad = kiln_module_new(engine, (const uint8_t *)"not bytecode", 12, &error);
    printf("bad module: %s (%s)\n", bad ? "loaded?!" : "refused", error);
    kiln_string_free(error);
    error = NULL;

    kiln_module *m = kiln_module_new(engine, bytes, len, &error);
    free(bytes);
    if (!m) {
        fprintf(stderr, "%s\n", error);
        kiln_string_free(error);
        kiln_engine_free(engine);
        return 1;
    }

    /* Missing host functions: linking fails. */
    kiln_config *bare = kiln_config_new();
    kiln_instance *none = kiln_instance_new(m, bare, &error);
    printf("without host functions: %s\n", none ? "linked?!" : error);
    kiln_string_free(error);
    error = NULL;
    kiln_config_free(bare);

    /* Run main, call exports, read the ledger. */
    kiln_config *c = config_with(1000000, 0, 0, 0, 0);
    if (kiln_config_allow_read(c, argv[2], &error) != 0 || kiln_config_allow_write(c, argv[2], &error) != 0) {
        printf("grant failed: %s\n", error);
        kiln_string_free(error);
        error = NULL;
    }
    kiln_config_allow_env(c, "KILN_GREETING", "granted value");
    if (kiln_config_allow_read(c, "/no/such/dir", &error) != 0) {
        printf("bad grant: %s\n", error);
        kiln_string_free(error);
        error = NULL;
    }
    kiln_instance *inst = kiln_instance_new(m, c, &error);
    kiln_config_free(c);
    if (!inst) {
        fprintf(stderr, "%s\n", error);
        kiln_string_free(error);
        return 1;
    }
    int code = 0;
    kiln_status st = kiln_instance_run(inst, &code, &error);
    size_t out_len = 0;
    char *out = kiln_instance_output(inst, 1, &out_len);
    printf("main: status %d, output %s", (int)st, out);
    kiln_string_free(out);

    kiln_val args[2] = {{.type = KILN_INT, .of.i = 40}, {.type = KILN_INT, .of.i = 2}};
    kiln_val result;
    bool has = false;
    st = kiln_instance_call(inst, "add", args, 2, &result, &has, NULL, &error);
    printf("add(40, 2): status %d, %lld\n", (int)st, (long long)result.of.i);
    kiln_val x = {.type = KILN_FLOAT, .of.f = 5.0};
    kiln_instance_call(inst, "halve", &x, 1, &result, &has, NULL, &error);
    printf("halve(5.0): %g\n", result.of.f);
    kiln_val b = {.type = KILN_BOOL, .of.b = false};
    kiln_instance_call(inst, "negate", &b, 1, &result, &has, NULL, &error);
    printf("negate(false): %s\n", result.of.b ? "true" : "false");
    kiln_val s = {.type = KILN_STR, .of.s = {"héllo", strlen("héllo")}};
    kiln_instance_call(inst, "shout", &s, 1, &result, &has, NULL, &error);
    printf("shout: %.*s (%zu bytes)\n", (int)result.of.s.len, result.of.s.ptr, result.of.s.len);
    kiln_val_free(&result);

    char path[4096];
    snprintf(path, sizeof path, "%s/secret.txt", argv[2]);
    kiln_val p = {.type = KILN_STR, .of.s = {path, strlen(path)}};
    kiln_instance_call(inst, "read", &p, 1, &result, &has, NULL, &error);
    printf("read granted: %.*s\n", (int)strcspn(result.of.s.ptr, "\n"), result.of.s.ptr);
    kiln_val_free(&result);
    char out_path[4096];
    snprintf(out_path, sizeof out_path, "%s/out.txt", argv[2]);
    kiln_val wargs[2] = {{.type = KILN_STR, .of.s = {out_path, strlen(out_path)}}, {.type = KILN_STR, .of.s = {"12345", 5}}};
    kiln_instance_call(inst, "write", wargs, 2, &result, &has, NULL, &error);
    printf("write granted: %.*s\n", (int)result.of.s.len, result.of.s.ptr);
    kiln_val_free(&result);
    kiln_val names[2] = {{.type = KILN_STR, .of.s = {"KILN_GREETING", 13}}, {.type = KILN_STR, .of.s = {"HOME", 4}}};
    for (int i = 0; i < 2; i++) {
        kiln_instance_call(inst, "lookup", &names[i], 1, &result, &has, NULL, &error);
        printf("env %.*s: %.*s\n", (int)names[i].of.s.len, names[i].of.s.ptr, (int)result.of.s.len, result.of.s.ptr);
        kiln_val_free(&result);
    }
    kiln_instance_call(inst, "line", NULL, 0, &result, &has, NULL, &error);
    printf("stdin not granted: %.*s\n", (int)result.of.s.len, result.of.s.ptr);
    kiln_val_free(&result);
    kiln_val etc = {.type = KILN_STR, .of.s = {"/etc/passwd", 11}};
    kiln_instance_call(inst, "read", &etc, 1, &result, &has, NULL, &error);
    printf("read /etc/passwd: %.*s\n", (int)result.of.s.len, result.of.s.ptr);
    kiln_val_free(&result);

    st = kiln_instance_call(inst, "nope", NULL, 0, NULL, NULL, NULL, &error);
    printf("nope: status %d, %s\n", (int)st, error);
    kiln_string_free(error);
    error = NULL;
    st = kiln_instance_call(inst, "add", args, 1, NULL, NULL, NULL, &error);
    printf("add(40): status %d, %s\n", (int)st, error);
    kiln_string_free(error);
    error = NULL;

    /* Values C got wrong are refused, not trusted. */
    kiln_val bogus = {.type = (kiln_type)42, .of.i = 1};
    st = kiln_instance_call(inst, "halve", &bogus, 1, NULL, NULL, NULL, &error);
    printf("bogus type: status %d, %s\n", (int)st, error);
    kiln_string_free(error);
    error = NULL;
    kiln_val as_str = {.type = KILN_STR, .of.s = {"5", 1}};
    st = kiln_instance_call(inst, "halve", &as_str, 1, NULL, NULL, NULL, &error);
    printf("str for float: status %d, %s\n", (int)st, error);
    kiln_string_free(error);
    error = NULL;
    kiln_type bad_params[] = {(kiln_type)7};
    kiln_config *junk = kiln_config_new();
    printf("define with a bogus type: %d, with NULL name: %d\n",
           kiln_config_define(junk, "f", bad_params, 1, false, KILN_INT, host_fail, NULL),
           kiln_config_define(junk, NULL, NULL, 0, false, KILN_INT, host_fail, NULL));
    kiln_config_free(junk);

    kiln_stats stats;
    kiln_instance_stats(inst, &stats);
    printf("ledger: fuel %s, allocations %s, bytes written %llu, bytes read %llu, file bytes written %llu\n",
           stats.fuel_used > 0 ? "counted" : "ZERO", stats.allocations > 0 ? "counted" : "ZERO",
           (unsigned long long)stats.bytes_written, (unsigned long long)stats.bytes_read,
           (unsigned long long)stats.file_bytes_written);
    kiln_instance_free(inst);

    /* Every limit ends only its own instance, with its own trap kind. */
    expect_trap(m, "spin", config_with(100000, 0, 0, 0, 0));
    expect_trap(m, "hog", config_with(0, 1 << 20, 0, 0, 0));
    kiln_val deep = {.type = KILN_INT, .of.i = 1000000};
    {
        kiln_config *dc = config_with(0, 0, 1000, 0, 0);
        kiln_instance *di = kiln_instance_new(m, dc, &error);
        st = kiln_instance_call(di, "dive", &deep, 1, NULL, NULL, NULL, &error);
        printf("dive: status %d, trap %s\n", (int)st, trap_name(kiln_instance_trap(di)));
        kiln_string_free(error);
        error = NULL;
        kiln_instance_free(di);
        kiln_config_free(dc);
    }
    expect_trap(m, "spin", config_with(0, 0, 0, 30, 0));
    expect_trap(m, "flood", config_with(0, 0, 0, 0, 1000));
    expect_trap(m, "fail", config_with(0, 0, 0, 0, 0));

    /* Stdin, granted: two lines, then the end of input. */
    kiln_config *sc = config_with(0, 0, 0, 0, 0);
    kiln_config_allow_stdin(sc);
    kiln_instance *si = kiln_instance_new(m, sc, &error);
    for (int i = 0; i < 3; i++) {
        kiln_instance_call(si, "line", NULL, 0, &result, &has, NULL, &error);
        printf("stdin: %.*s\n", (int)result.of.s.len, result.of.s.ptr);
        kiln_val_free(&result);
    }
    kiln_stats sstats;
    kiln_instance_stats(si, &sstats);
    printf("stdin bytes read: %llu\n", (unsigned long long)sstats.bytes_read);
    kiln_instance_free(si);
    kiln_config_free(sc);

    /* An interrupt from another thread. */
    kiln_config *ic = config_with(0, 0, 0, 0, 0);
    kiln_instance *ii = kiln_instance_new(m, ic, &error);
    struct stopper stop = {kiln_instance_interrupt_handle(ii)};
    pthread_t t;
    pthread_create(&t, NULL, interrupt_later, &stop);
    st = kiln_instance_call(ii, "spin", NULL, 0, NULL, NULL, NULL, &error);
    pthread_join(t, NULL);
    printf("interrupted spin: status %d, trap %s\n", (int)st, trap_name(kiln_instance_trap(ii)));
    kiln_string_free(error);
    kiln_interrupt_handle_free(stop.handle);
    kiln_instance_free(ii);
    kiln_config_free(ic);

    kiln_module_free(m);
    kiln_engine_free(engine);
    return 0;
}
