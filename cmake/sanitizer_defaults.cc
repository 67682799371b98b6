// Linked into every executable of a sanitizer build (BLKSIM_SANITIZE=ON), so the
// settings hold however a binary is started (ctest, scripts, by hand).

// Stop at the first undefined behaviour, with a stack.
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

// Leaks inside third-party libraries that blksim cannot free: fontconfig's caches
// (loaded by Graphviz's text layout) and Graphviz's own layout allocations.
// Nothing of blksim's own is suppressed.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\nleak:libgvc.so\n"; }
