// The file descriptors the user-space KVM hands out and what each stands for. Every one
// is a real memfd (so mmap, dup, fork, fstat and close behave as the kernel's), and an fd
// is recognised by its file's identity (st_dev, st_ino), not its number: a dup'ed or
// inherited fd names the same object, and a closed-and-reused number names nothing.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace tdsim::ukvm {

class TdVm;
class TdVcpu;

// A guest_memfd: its bytes are the TD's private memory, reached through our own
// MAP_SHARED mapping (the program never needs to map it). Owns that mapping: it is
// unmapped when the last reference goes (only forget_all_objects() lets that happen
// while the program lives).
struct GuestMemfd {
  GuestMemfd(uint64_t s, uint8_t* m, TdVm* v) : size(s), map(m), vm(v) {}
  GuestMemfd(const GuestMemfd&) = delete;
  GuestMemfd& operator=(const GuestMemfd&) = delete;
  ~GuestMemfd();

  const uint64_t size;
  uint8_t* const map;
  TdVm* const vm;  // the VM that created it
};

struct KvmObject {
  enum class Kind { kSystem, kVm, kVcpu, kGuestMemfd, kStats };
  Kind kind = Kind::kSystem;
  std::shared_ptr<TdVm> vm;
  std::shared_ptr<TdVcpu> vcpu;
  std::shared_ptr<GuestMemfd> gmem;
};

const char* kind_name(KvmObject::Kind k);

// The lock every ioctl but KVM_RUN's engine run holds: the registry and VM state.
std::mutex& kvm_lock();

// A new memfd of `size` bytes registered as `object`: the fd, or -errno. `seal` fixes
// its size (F_SEAL_SHRINK | F_SEAL_GROW), so a program cannot truncate memory this
// library maps.
int new_object_fd(const char* name, uint64_t size, KvmObject object, bool seal);
// The two halves of new_object_fd, for an object that needs its fd before it exists.
int new_memfd(const char* name, uint64_t size, bool seal);
int register_object(int fd, KvmObject object);
// Seals a memfd against new writable mappings and write(2) (F_SEAL_FUTURE_WRITE); the
// mappings already made (ours) stay writable.
int seal_future_writes(int fd);

// The object behind `fd`, if this library handed it out. Cheap when nothing was.
std::optional<KvmObject> lookup(int fd);

// Forgets every object handed out, as if none had been: their memory and mappings go
// with the last reference, the fds stay open (their owner closes them). A program never
// needs it (the kernel's objects live as long as an fd does, and ours as long as the
// process); the ioctl fuzzer starts each input from nothing with it. Takes kvm_lock().
void forget_all_objects();

}  // namespace tdsim::ukvm
