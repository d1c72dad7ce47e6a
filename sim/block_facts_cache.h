// What the block hook knows of each translated block (its instruction count, its last
// instruction, whether it needs the per-instruction hook), kept by block address.
//
// The block hook asks at every block the engine runs, so the lookup is on the hot path of
// every counted run: a small direct-mapped table of recent blocks sits in front of the
// hash map (whose lookup divides by its bucket count and follows a node pointer). Each
// slot holds a copy of its block's facts, so a hit reads one slot and follows no pointer;
// erasing from the map empties the table. The block hook's fast path asks find_countable,
// one compare of address and one of size: a block that needs the per-instruction hook
// keeps a size in its slot that no block has, so it never matches there; so does a block
// holding a PAUSE, whose turn may end after it (Vcpu::on_block).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace tdsim::sim {

struct BlockFacts {
  uint32_t size;       // bytes, as the engine reports the block
  uint32_t icount;     // instructions
  uint64_t last_insn;  // address of its last instruction
  bool port_io;        // holds an IN/OUT/INS/OUTS, CPUID, RDMSR or WRMSR: needs the per-instruction hook
  bool pause = false;  // holds a PAUSE: a spin-wait, where a vCPU among others gives up its turn
};

class BlockFactsCache {
 public:
  // The facts kept for the block at `addr` of `size` bytes, or nullptr (none kept, or
  // kept for a block of another size there). The pointer is good until the next call.
  const BlockFacts* find(uint64_t addr, uint32_t size) {
    if (const BlockFacts* f = find_recent(addr, size)) return f;
    const auto it = map_.find(addr);
    if (it == map_.end() || it->second.size != size) return nullptr;
    Slot& s = slot(addr);
    s = Slot(addr, it->second);
    return &s.facts;
  }
  // The same from the table alone: nullptr when the block is not among the recent ones.
  const BlockFacts* find_recent(uint64_t addr, uint32_t size) {
    const Slot& s = slot(addr);
    return s.addr == addr && s.facts.size == size ? &s.facts : nullptr;
  }
  // From the table alone, and only a block the block hook may count by itself (neither
  // port_io nor pause): the fast path's lookup.
  const BlockFacts* find_countable(uint64_t addr, uint32_t size) const noexcept {
    const Slot& s = recent_[index(addr)];
    return s.addr == addr && s.countable_size == size ? &s.facts : nullptr;
  }
  const BlockFacts& insert(uint64_t addr, const BlockFacts& f) {
    auto [it, added] = map_.try_emplace(addr, f);
    if (!added) {
      count_pages(addr, it->second.size, -1);
      it->second = f;
    }
    count_pages(addr, f.size, +1);
    slot(addr) = Slot(addr, it->second);
    return it->second;
  }
  void clear() {
    map_.clear();
    pages_.clear();
    recent_.fill(Slot{});
  }
  // Drops the blocks overlapping [begin, end). A session's reset asks this for every page
  // of the boot stub or guest ELF the run wrote, mostly data pages no block lies on: the
  // page counts answer those without walking the map.
  void forget(uint64_t begin, uint64_t end) {
    if (begin >= end) return;
    bool any = false;
    for (uint64_t p = begin >> kPageShift; p <= (end - 1) >> kPageShift && !any; ++p) any = pages_.count(p) != 0;
    if (!any) return;
    const size_t erased = std::erase_if(map_, [&](const auto& kv) {
      if (kv.first >= end || kv.first + kv.second.size <= begin) return false;
      count_pages(kv.first, kv.second.size, -1);
      return true;
    });
    if (erased) recent_.fill(Slot{});
  }

 private:
  // A size no translation block has (the engine's blocks stay within two pages).
  static constexpr uint32_t kNeverCountable = ~0u;
  struct Slot {
    Slot() = default;
    Slot(uint64_t a, const BlockFacts& f) : addr(a), countable_size(f.port_io || f.pause ? kNeverCountable : f.size), facts(f) {}
    uint64_t addr = ~0ull;  // no block starts there in a table slot that is empty
    uint32_t countable_size = kNeverCountable;  // facts.size, unless the block is port_io or pause
    BlockFacts facts{};
  };
  static constexpr size_t kSlots = 1024;
  static constexpr unsigned kPageShift = 12;
  static size_t index(uint64_t addr) noexcept { return (addr ^ (addr >> 10)) & (kSlots - 1); }
  Slot& slot(uint64_t addr) { return recent_[index(addr)]; }
  // Adds `delta` to the count of kept blocks on each 4 KiB page [addr, addr + size) touches.
  void count_pages(uint64_t addr, uint32_t size, int delta) {
    const uint64_t last = (addr + (size ? size - 1 : 0)) >> kPageShift;
    for (uint64_t p = addr >> kPageShift; p <= last; ++p) {
      uint32_t& n = pages_[p];
      n += static_cast<uint32_t>(delta);
      if (n == 0) pages_.erase(p);
    }
  }
  std::unordered_map<uint64_t, BlockFacts> map_;
  std::unordered_map<uint64_t, uint32_t> pages_;  // page number -> kept blocks on it
  std::array<Slot, kSlots> recent_{};
};

}  // namespace tdsim::sim
