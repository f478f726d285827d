// exec*(): the new program image cannot use veer's sockets (it starts an
// engine of its own), so the process lets go of them first: a socket that
// no other process holds is closed (FIN) now, as the kernel closes the
// socket of the last fd that exec closes. Without this, a forked child that
// execs (socat's EXEC, a shell's pipeline) would keep its parent's
// connections open until veer noticed the exec, up to 200 ms later.
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <vector>

#include "preload/engine.h"

using veer::preload::Engine;

namespace {

template <typename F>
F next(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) {
    static const char msg[] = "veer: cannot resolve an exec function\n";
    syscall(SYS_write, 2, msg, sizeof msg - 1);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

#define VEER_NEXT(name) static auto fn = next<decltype(&::name)>(#name)

// Runs `call` (the real exec) between the engine's before/after hooks; an
// exec that returns has failed.
template <typename Call>
int exec_with(Call call) {
  Engine& e = Engine::get();
  e.before_exec();
  int r = call();
  int err = errno;
  e.after_failed_exec();
  errno = err;
  return r;
}

// The arguments of a variadic exec call, up to the terminating null.
std::vector<char*> collect(const char* first, va_list ap) {
  std::vector<char*> argv{const_cast<char*>(first)};
  while (char* a = va_arg(ap, char*)) argv.push_back(a);
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

#define VEER_EXPORT extern "C" __attribute__((visibility("default")))

VEER_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  VEER_NEXT(execve);
  return exec_with([&] { return fn(path, argv, envp); });
}

VEER_EXPORT int execv(const char* path, char* const argv[]) {
  VEER_NEXT(execv);
  return exec_with([&] { return fn(path, argv); });
}

VEER_EXPORT int execvp(const char* file, char* const argv[]) {
  VEER_NEXT(execvp);
  return exec_with([&] { return fn(file, argv); });
}

VEER_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  VEER_NEXT(execvpe);
  return exec_with([&] { return fn(file, argv, envp); });
}

VEER_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  VEER_NEXT(fexecve);
  return exec_with([&] { return fn(fd, argv, envp); });
}

VEER_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect(arg, ap);
  va_end(ap);
  return execv(path, argv.data());
}

VEER_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect(arg, ap);
  va_end(ap);
  return execvp(file, argv.data());
}

VEER_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> argv = collect(arg, ap);
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return execve(path, argv.data(), envp);
}
