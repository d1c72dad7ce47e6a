// The preload half of libtdsim_kvm.so: the libc entry points a KVM program reaches
// /dev/kvm and the KVM module parameters through, answered by the user-space KVM
// (kvm_dispatch.h); every other path and fd goes to the next definition (libc's) found
// with dlsym(RTLD_NEXT). Nothing runs at load time: a program that never opens /dev/kvm
// pays one string compare per open and one flag test per ioctl.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "kvm_dispatch.h"
#include "module_params.h"
#include "td_vcpu.h"

using namespace tdsim;

namespace {

template <class Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

bool is_dev_kvm(const char* path) { return path && strcmp(path, "/dev/kvm") == 0; }

// -1 with errno for a negative result, else the result.
long as_libc(long r) {
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}

// An fd for a path this library answers, or -2 when the path is not one of them.
int answer_open(const char* path, int flags) {
  if (is_dev_kvm(path)) return static_cast<int>(as_libc(ukvm::open_kvm(flags)));
  if (auto text = ukvm::module_param(path)) {
    if ((flags & O_ACCMODE) != O_RDONLY) {
      errno = EACCES;  // sysfs parameters of a TDX host are not written by a test
      return -1;
    }
    return static_cast<int>(as_libc(ukvm::open_text(*text)));
  }
  return -2;
}

mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(ap, int)) : 0;
}

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using Open2Fn = int (*)(const char*, int);
using Openat2Fn = int (*)(int, const char*, int);
using FopenFn = FILE* (*)(const char*, const char*);
using AccessFn = int (*)(const char*, int);
using FaccessatFn = int (*)(int, const char*, int, int);
using IoctlFn = int (*)(int, unsigned long, ...);

int open_common(const char* sym, const char* path, int flags, mode_t mode) {
  const int r = answer_open(path, flags);
  if (r != -2) return r;
  return next<OpenFn>(sym)(path, flags, mode);
}

int openat_common(const char* sym, int dirfd, const char* path, int flags, mode_t mode) {
  if (path && path[0] == '/') {  // an absolute path ignores dirfd
    const int r = answer_open(path, flags);
    if (r != -2) return r;
  }
  return next<OpenatFn>(sym)(dirfd, path, flags, mode);
}

int mode_flags(const char* mode) {
  if (!mode) return O_RDONLY;
  const bool plus = strchr(mode, '+') != nullptr;
  if (mode[0] == 'r') return plus ? O_RDWR : O_RDONLY;
  return plus ? O_RDWR : O_WRONLY;
}

FILE* fopen_common(const char* sym, const char* path, const char* mode) {
  if (is_dev_kvm(path) || ukvm::module_param(path)) {
    const int fd = answer_open(path, mode_flags(mode) | O_CLOEXEC);
    if (fd < 0) return nullptr;
    FILE* f = fdopen(fd, mode);
    if (!f) {
      const int err = errno;
      close(fd);
      errno = err;
    }
    return f;
  }
  return next<FopenFn>(sym)(path, mode);
}

// The program's own handlers, behind our wrapper: a handled signal on a thread inside
// KVM_RUN ends that KVM_RUN (KVM returns EINTR for a pending signal; a KVM program kicks
// vCPU threads that way). Indexed by signal; SA_SIGINFO kept in `siginfo`.
struct ProgramHandler {
  void* fn = nullptr;  // sa_handler or sa_sigaction
  bool siginfo = false;
};
ProgramHandler g_handlers[NSIG];

void wrapper(int sig, siginfo_t* info, void* ctx) {
  const ProgramHandler h = g_handlers[sig];
  if (h.siginfo) reinterpret_cast<void (*)(int, siginfo_t*, void*)>(h.fn)(sig, info, ctx);
  else if (h.fn) reinterpret_cast<void (*)(int)>(h.fn)(sig);
  ukvm::kick_running_vcpu_of_this_thread();
}

using SigactionFn = int (*)(int, const struct sigaction*, struct sigaction*);

bool is_function(void* fn) {
  return fn != reinterpret_cast<void*>(SIG_DFL) && fn != reinterpret_cast<void*>(SIG_IGN) &&
         fn != reinterpret_cast<void*>(SIG_ERR);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction* act,
                                                     struct sigaction* old) noexcept {
  auto real = next<SigactionFn>("sigaction");
  if (sig <= 0 || sig >= NSIG) return real(sig, act, old);
  const ProgramHandler before = g_handlers[sig];
  struct sigaction mine;
  const struct sigaction* give = act;
  if (act) {
    void* fn = (act->sa_flags & SA_SIGINFO) ? reinterpret_cast<void*>(act->sa_sigaction)
                                            : reinterpret_cast<void*>(act->sa_handler);
    if (is_function(fn)) {
      mine = *act;
      mine.sa_flags |= SA_SIGINFO;
      mine.sa_sigaction = wrapper;
      give = &mine;
    }
  }
  const int r = real(sig, give, old);
  if (r != 0) return r;
  // The program sees its own handler, never the wrapper.
  if (old && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction == wrapper) {
    if (before.siginfo) {
      old->sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t*, void*)>(before.fn);
    } else {
      old->sa_flags &= ~SA_SIGINFO;
      old->sa_handler = reinterpret_cast<void (*)(int)>(before.fn);
    }
  }
  if (act) {
    const bool info = act->sa_flags & SA_SIGINFO;
    g_handlers[sig] = ProgramHandler{info ? reinterpret_cast<void*>(act->sa_sigaction)
                                          : reinterpret_cast<void*>(act->sa_handler),
                                     info};
  }
  return 0;
}

// signal(3) goes through the same path (glibc's calls its internal sigaction directly).
__attribute__((visibility("default"))) sighandler_t signal(int sig, sighandler_t handler) noexcept {
  struct sigaction act {}, old{};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART;
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return (old.sa_flags & SA_SIGINFO) ? reinterpret_cast<sighandler_t>(reinterpret_cast<void*>(old.sa_sigaction))
                                     : old.sa_handler;
}

__attribute__((visibility("default"))) int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common("open", path, flags, mode);
}

__attribute__((visibility("default"))) int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common("open64", path, flags, mode);
}

__attribute__((visibility("default"))) int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return openat_common("openat", dirfd, path, flags, mode);
}

__attribute__((visibility("default"))) int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return openat_common("openat64", dirfd, path, flags, mode);
}

// _FORTIFY_SOURCE's checked variants (no mode argument).
__attribute__((visibility("default"))) int __open_2(const char* path, int flags) {
  const int r = answer_open(path, flags);
  return r != -2 ? r : next<Open2Fn>("__open_2")(path, flags);
}
__attribute__((visibility("default"))) int __open64_2(const char* path, int flags) {
  const int r = answer_open(path, flags);
  return r != -2 ? r : next<Open2Fn>("__open64_2")(path, flags);
}
__attribute__((visibility("default"))) int __openat_2(int dirfd, const char* path, int flags) {
  const int r = path && path[0] == '/' ? answer_open(path, flags) : -2;
  return r != -2 ? r : next<Openat2Fn>("__openat_2")(dirfd, path, flags);
}
__attribute__((visibility("default"))) int __openat64_2(int dirfd, const char* path, int flags) {
  const int r = path && path[0] == '/' ? answer_open(path, flags) : -2;
  return r != -2 ? r : next<Openat2Fn>("__openat64_2")(dirfd, path, flags);
}

__attribute__((visibility("default"))) FILE* fopen(const char* path, const char* mode) {
  return fopen_common("fopen", path, mode);
}
__attribute__((visibility("default"))) FILE* fopen64(const char* path, const char* mode) {
  return fopen_common("fopen64", path, mode);
}

// /dev/kvm exists (and is read-write) for a program that asks before opening it.
__attribute__((visibility("default"))) int access(const char* path, int mode) noexcept {
  if (is_dev_kvm(path) && !(mode & X_OK)) return 0;
  return next<AccessFn>("access")(path, mode);
}
__attribute__((visibility("default"))) int faccessat(int dirfd, const char* path, int mode, int flags) noexcept {
  if (is_dev_kvm(path) && !(mode & X_OK)) return 0;
  return next<FaccessatFn>("faccessat")(dirfd, path, mode, flags);
}

__attribute__((visibility("default"))) int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  // Every KVM ioctl's argument is a pointer or an integer passed in one register.
  const unsigned long arg = va_arg(ap, unsigned long);
  va_end(ap);
  const long r = ukvm::kvm_ioctl(fd, request, arg);
  if (r != -EBADF || ukvm::owns_fd(fd)) return static_cast<int>(as_libc(r));
  return next<IoctlFn>("ioctl")(fd, request, arg);
}

}  // extern "C"
