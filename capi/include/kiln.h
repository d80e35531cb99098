/*
 * kiln.h: the C embedding API of the Kiln runtime (libkiln.a / libkiln.so).
 *
 * Load a verified module once, create isolated instances of it with limits and
 * capabilities, run them or call their exported functions, give them host functions,
 * and read each one's ledger. spec/runtime.md describes the model; examples/c_host/
 * shows a whole host.
 *
 * Conventions:
 *  - Every object made by a `kiln_*_new` function is freed by its `kiln_*_free`
 *    function (which accepts NULL). Every `char *` the library returns is freed with
 *    `kiln_string_free`. Nothing else needs freeing.
 *  - Functions that can fail take a `char **error` last: on failure they return NULL (or
 *    a non-zero status) and, if `error` is not NULL, store a message there (free it with
 *    `kiln_string_free`). On success `*error` is left alone.
 *  - Strings passed in are NUL-terminated UTF-8; strings in `kiln_val` carry a length.
 *  - No Rust panic crosses this boundary: a fault inside the library becomes an error
 *    return (KILN_ERROR).
 *  - A module may be shared by instances on many threads; an instance is used by one
 *    thread at a time (it may move between threads); `kiln_interrupt` may be called from
 *    any thread.
 */
#ifndef KILN_H
#define KILN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_engine kiln_engine;
typedef struct kiln_module kiln_module;
typedef struct kiln_config kiln_config;
typedef struct kiln_instance kiln_instance;
typedef struct kiln_interrupt_handle kiln_interrupt_handle;
typedef struct kiln_caller kiln_caller;

/* How a run or call ended (return value of kiln_instance_run / kiln_instance_call). */
typedef enum kiln_status {
    KILN_OK = 0,    /* finished normally */
    KILN_EXIT = 1,  /* the program called exit(code): see *exit_code */
    KILN_TRAP = 2,  /* the program trapped: the instance is finished (see kiln_instance_trap) */
    KILN_ERROR = 3  /* refused: no such export, wrong arguments, an instance that trapped before */
} kiln_status;

/* Which trap ended an instance (kiln_instance_trap). */
typedef enum kiln_trap {
    KILN_TRAP_NONE = 0,        /* has not trapped */
    KILN_TRAP_FUEL = 1,        /* fuel limit */
    KILN_TRAP_HEAP = 2,        /* heap limit */
    KILN_TRAP_STACK = 3,       /* call depth limit */
    KILN_TRAP_TIMEOUT = 4,     /* the run's deadline passed */
    KILN_TRAP_INTERRUPTED = 5, /* kiln_interrupt */
    KILN_TRAP_OUTPUT = 6,      /* output limit */
    KILN_TRAP_HOST = 7,        /* a host function failed */
    KILN_TRAP_PROGRAM = 8      /* the program's own error: panic, division by zero, index, ... */
} kiln_trap;

/* Value types, and values, crossing the boundary. */
typedef enum kiln_type {
    KILN_INT = 0,
    KILN_FLOAT = 1,
    KILN_BOOL = 2,
    KILN_STR = 3
} kiln_type;

typedef struct kiln_val {
    kiln_type type;
    union {
        int64_t i;
        double f;
        bool b;
        /* UTF-8 bytes. In arguments the library copies them. In results the library owns
         * them until kiln_val_free; a host function's string result is copied as soon as
         * it returns. Strings the library hands out are also NUL-terminated. */
        struct {
            const char *ptr;
            size_t len;
        } s;
    } of;
} kiln_val;

/* The ledger of one instance (kiln_instance_stats). Times are in nanoseconds. */
typedef struct kiln_stats {
    uint64_t fuel_used;
    uint64_t allocations;
    uint64_t bytes_allocated;
    uint64_t heap_live_bytes;
    uint64_t heap_peak_bytes;
    uint64_t gc_cycles;
    uint64_t gc_pause_total_ns;
    uint64_t gc_pause_max_ns;
    uint64_t wall_time_ns;
    uint64_t cpu_time_ns; /* UINT64_MAX where the system does not report it */
    uint64_t bytes_written;
    uint64_t bytes_read;
    uint64_t file_bytes_written;
    uint64_t functions_compiled;
    uint64_t compile_time_ns;
} kiln_stats;

/* A host function: gets its arguments (types as registered), writes its result (if it
 * has one) to *result, and returns 0. Returning non-zero traps the calling instance,
 * with the message given to kiln_caller_fail if one was. The argument strings are valid
 * only during the call. A host function must not call back into the instance. */
typedef int (*kiln_host_fn)(void *user_data, kiln_caller *caller, const kiln_val *args, size_t nargs,
                            kiln_val *result);

/* Engine: owns the timer thread that enforces deadlines. */
kiln_engine *kiln_engine_new(void);
void kiln_engine_free(kiln_engine *engine);

/* Module: decoded and verified .bc bytes. Immutable; usable from any thread. */
kiln_module *kiln_module_new(const kiln_engine *engine, const uint8_t *bytes, size_t len, char **error);
void kiln_module_free(kiln_module *module);

/* Instance configuration. Everything is off or unlimited by default, except the
 * runtime's default heap limit (1 GiB) and call depth (100000); output goes to the process's
 * stdout and stderr unless captured. */
kiln_config *kiln_config_new(void);
void kiln_config_free(kiln_config *config);
void kiln_config_set_fuel(kiln_config *config, uint64_t fuel);
void kiln_config_set_max_heap(kiln_config *config, uint64_t bytes);
void kiln_config_set_max_stack(kiln_config *config, uint64_t frames);
void kiln_config_set_timeout_ms(kiln_config *config, uint64_t milliseconds);
void kiln_config_set_max_output(kiln_config *config, uint64_t bytes);
/* 0 = interpreter only, 1 = compile everything first, 2 = tier up when hot (default). */
void kiln_config_set_tier(kiln_config *config, int tier);
/* Keep stdout and stderr in memory instead (kiln_instance_output). */
void kiln_config_capture_output(kiln_config *config);
/* Program arguments, as args() returns them (appended in order). */
void kiln_config_add_arg(kiln_config *config, const char *arg);
/* Capabilities: 0 on success, non-zero with *error if the directory cannot be used. */
int kiln_config_set_base_dir(kiln_config *config, const char *dir, char **error);
int kiln_config_allow_read(kiln_config *config, const char *dir, char **error);
int kiln_config_allow_write(kiln_config *config, const char *dir, char **error);
void kiln_config_allow_env(kiln_config *config, const char *name, const char *value);
/* Grant the process's stdin to io.read_line. */
void kiln_config_allow_stdin(kiln_config *config);
/* Register host function `name` for the module's `extern fn name(...)`. `result` is
 * ignored unless `has_result`. 0 on success; non-zero for a NULL name or function. */
int kiln_config_define(kiln_config *config, const char *name, const kiln_type *params, size_t nparams,
                       bool has_result, kiln_type result, kiln_host_fn fn, void *user_data);

/* Instance: links the host functions, then runs the global initialisers. The config is
 * only read (it may be reused). On failure: NULL, with the link error or the
 * initialiser's trap in *error. */
kiln_instance *kiln_instance_new(const kiln_module *module, const kiln_config *config, char **error);
void kiln_instance_free(kiln_instance *instance);
/* Runs main. */
kiln_status kiln_instance_run(kiln_instance *instance, int *exit_code, char **error);
/* Calls exported function `name`. With a result, *result receives it (free a string
 * result with kiln_val_free) and *has_result is set; both may be NULL to ignore it. */
kiln_status kiln_instance_call(kiln_instance *instance, const char *name, const kiln_val *args, size_t nargs,
                               kiln_val *result, bool *has_result, int *exit_code, char **error);
kiln_trap kiln_instance_trap(const kiln_instance *instance);
void kiln_instance_stats(const kiln_instance *instance, kiln_stats *out);
/* Captured output so far (stream 1 = stdout, 2 = stderr), NUL-terminated; *len (if not
 * NULL) gets its length. NULL if output is not captured. Free with kiln_string_free. */
char *kiln_instance_output(const kiln_instance *instance, int stream, size_t *len);

/* Interrupts: a handle another thread keeps to stop the instance at its next check. */
kiln_interrupt_handle *kiln_instance_interrupt_handle(const kiln_instance *instance);
void kiln_interrupt(const kiln_interrupt_handle *handle);
void kiln_interrupt_handle_free(kiln_interrupt_handle *handle);

/* Inside a host function. charge_fuel returns non-zero when the instance is out of fuel
 * (return non-zero then: the instance traps "fuel exhausted"). */
int kiln_caller_charge_fuel(kiln_caller *caller, uint64_t units);
uint64_t kiln_caller_fuel_used(const kiln_caller *caller);
void kiln_caller_fail(kiln_caller *caller, const char *message);

void kiln_val_free(kiln_val *val);
void kiln_string_free(char *s);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
