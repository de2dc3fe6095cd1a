/*
 * HotSpot's PrintAssembly disassembler plugin (the decode_instructions_virtual entry point the JVM looks up in
 * hsdis-amd64.so) over the capstone library, so that JMH's perfasm profiler prints instructions instead of raw
 * bytes. Debian's libhsdis0-fcml exports only the older entry point, which current JDKs no longer call.
 * Built by bench/scripts/profile.sh (gcc, libcapstone-dev); used for profiling only, never linked into jnic.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <capstone/capstone.h>

typedef void *(*event_fn)(void *stream, const char *event, void *arg);
typedef int (*print_fn)(void *stream, const char *format, ...);

static void *no_event(void *stream, const char *event, void *arg) { return NULL; }

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *code, uintptr_t length,
                                  event_fn event, void *event_stream, print_fn print, void *print_stream,
                                  const char *options, int newline) {
  csh handle;
  cs_insn *insns;
  if (event == NULL) event = no_event;
  if (print == NULL) {
    print = (print_fn) fprintf;
    if (print_stream == NULL) print_stream = stdout;
  }
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return NULL;
  cs_option(handle, CS_OPT_SYNTAX, options && strstr(options, "intel") ? CS_OPT_SYNTAX_INTEL : CS_OPT_SYNTAX_ATT);
  cs_option(handle, CS_OPT_SKIPDATA, CS_OPT_ON);
  size_t n = cs_disasm(handle, code, length, start_va, 0, &insns);
  for (size_t i = 0; i < n; i++) {
    event(event_stream, "insn", (void *) (uintptr_t) insns[i].address);
    print(print_stream, "%s\t%s", insns[i].mnemonic, insns[i].op_str);
    event(event_stream, "/insn", (void *) (uintptr_t) (insns[i].address + insns[i].size));
    if (newline) print(print_stream, "\n");
  }
  if (n > 0) cs_free(insns, n);
  cs_close(&handle);
  return NULL;
}
