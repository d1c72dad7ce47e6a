#include "engine_limits.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "core/backend.h"

namespace tdsim::sim {


namespace {

// Virtual size of this process now, from /proc/self/statm (pages); 0 if unreadable.
uint64_t current_vm_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long pages = 0;
  const int n = std::fscanf(f, "%llu", &pages);
  std::fclose(f);
  return n == 1 ? pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

void check_address_space_for_engines(uint32_t nr_engines, uint64_t guest_bytes) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
  const uint64_t per_engine = kTcgBufferBytes + kEngineOverheadBytes;
  const uint64_t need = current_vm_bytes() + guest_bytes + uint64_t{nr_engines} * per_engine;
  if (need > rl.rlim_cur)
    throw BackendError(fmt::format(
        "the address-space limit (RLIMIT_AS, ulimit -v) of {} MiB is too small for {} Unicorn engine(s): they need "
        "about {} MiB ({} MiB each, {} MiB of guest memory, {} MiB already in use); raise the limit or use fewer vCPUs",
        rl.rlim_cur >> 20, nr_engines, need >> 20, per_engine >> 20, guest_bytes >> 20, current_vm_bytes() >> 20));
}

}  // namespace tdsim::sim
