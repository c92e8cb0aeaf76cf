// crash_report: on a fatal signal (an abort, say from the C library finding its heap corrupted,
// or a segmentation fault), one JSON line naming the signal, then the crashing thread's stack as
// raw frames on stderr, and the signal's default action (a core dump, exit status 128 + signal).
// The frames hold code addresses and symbol names, never data.
#pragma once

namespace warden::crash_report {

// False in sanitizer builds, which keep their own handlers (they report more): there install()
// does nothing.
bool supported();

// Installs the handler for SIGABRT, SIGSEGV, SIGBUS, SIGILL and SIGFPE, once per process.
void install();

}  // namespace warden::crash_report
