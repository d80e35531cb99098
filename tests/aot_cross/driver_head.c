/* A stand-in for the Kiln runtime on aarch64 Linux, for tests/aot_cross.rs: the context
 * compiled code reads (jit/abi.rs `NativeCtx`, `Frame`), and helpers that stop the run
 * instead of doing the runtime's work. The cases that follow call compiled functions
 * directly, as the runtime's `call_native` does (arguments from slot 1, result slot 0). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const void *code;
    uint32_t func, base, pc, ret, clear_end;
} frame;

typedef struct {
    uint64_t *regs;
    uint64_t regs_len;
    frame *frames, *frames_end, *frame_top;
    int64_t fuel;
    const int64_t *interrupt;
    uint64_t *globals;
    const uintptr_t *entries;
    uintptr_t stack_limit;
    void *vm, *heap;
    uint64_t check_status;
    const void *descs, *strings, *dense, *method_funcs;
} native_ctx;

typedef struct {
    int64_t fuel;
    uint64_t value;
} native_ret;

typedef native_ret (*native_fn)(native_ctx *, uint64_t, uint64_t, uint64_t, int64_t);

extern const uintptr_t kiln_aot_code[];
extern const uint64_t kiln_aot_code_len;
extern const uint32_t kiln_aot_abi_version;

static int64_t trap_code = -1;

uint64_t kiln_rt_exec_slow(native_ctx *c, int64_t pc) { (void)c; (void)pc; trap_code = 1000; return 1; }
uint64_t kiln_rt_trap(native_ctx *c, int64_t pc, int64_t code, int64_t a, int64_t b) {
    (void)c; (void)pc; (void)a; (void)b; trap_code = code; return 1;
}
uint64_t kiln_rt_limit(native_ctx *c, int64_t pc, int64_t at_entry) { (void)c; (void)pc; (void)at_entry; trap_code = 1001; return 1; }
uint64_t kiln_rt_enter_slow(native_ctx *c, int64_t slots) { (void)c; (void)slots; trap_code = 1002; return 1; }
uint64_t kiln_rt_iface_target(native_ctx *c, int64_t site, uint64_t obj) { (void)c; (void)site; (void)obj; trap_code = 1003; return (uint64_t)-1; }
double kiln_rt_float_rem(double a, double b) { return fmod(a, b); }

static uint64_t regs[1 << 20];
static frame frames[1 << 16];
static uint64_t globals[1024];
static const int64_t floor_clear = -1;
static const int64_t fuel_start = (int64_t)1 << 40;

/* Calls function `f` with `n` argument slots; prints its result (a float's bits) or
 * that it stopped, and the fuel it used. */
static void call(const char *label, uint32_t f, const uint64_t *args, int n, int is_float) {
    native_ctx c;
    memset(&c, 0, sizeof c);
    memset(regs, 0, sizeof regs);
    c.regs = regs;
    c.regs_len = sizeof regs / sizeof regs[0];
    c.frames = frames;
    c.frames_end = frames + sizeof frames / sizeof frames[0];
    c.frame_top = frames;
    c.fuel = fuel_start;
    c.interrupt = &floor_clear;
    c.globals = globals;
    c.entries = kiln_aot_code;
    for (int i = 0; i < n; i++) regs[1 + i] = args[i];
    trap_code = -1;
    native_ret r = ((native_fn)kiln_aot_code[f])(&c, 1, 0, f, fuel_start);
    if (r.fuel == INT64_MIN) {
        printf("%s = trap\n", label);
    } else if (is_float) {
        printf("%s = bits %016llx fuel %lld\n", label, (unsigned long long)r.value, (long long)(fuel_start - r.fuel));
    } else {
        printf("%s = %lld fuel %lld\n", label, (long long)r.value, (long long)(fuel_start - r.fuel));
    }
}

int main(void) {
    printf("abi %u, %llu functions\n", kiln_aot_abi_version, (unsigned long long)kiln_aot_code_len);
