// What the block hook knows of each translated block (its instruction count, its last
// instruction, whether it needs the per-instruction hook), kept by block address.
//
// The block hook asks at every block the engine runs, so the lookup is on the hot path of
// every counted run: a small direct-mapped table of recent blocks sits in front of the
// hash map (whose lookup divides by its bucket count and follows a node pointer). Each
// slot holds a copy of its block's facts, so a hit reads one slot and follows no pointer;
// erasing from the map empties the table.
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
    s = Slot{addr, it->second};
    return &s.facts;
  }
  // The same from the table alone: nullptr when the block is not among the recent ones.
  const BlockFacts* find_recent(uint64_t addr, uint32_t size) {
    const Slot& s = slot(addr);
    return s.addr == addr && s.facts.size == size ? &s.facts : nullptr;
  }
  const BlockFacts& insert(uint64_t addr, const BlockFacts& f) {
    BlockFacts& kept = map_[addr] = f;
    slot(addr) = Slot{addr, kept};
    return kept;
  }
  void clear() {
    map_.clear();
    recent_.fill(Slot{});
  }
  // Drops the blocks overlapping [begin, end).
  void forget(uint64_t begin, uint64_t end) {
    if (std::erase_if(map_, [&](const auto& kv) { return kv.first < end && kv.first + kv.second.size > begin; }))
      recent_.fill(Slot{});
  }

 private:
  struct Slot {
    uint64_t addr = ~0ull;  // no block starts there in a table slot that is empty
    BlockFacts facts{};
  };
  static constexpr size_t kSlots = 1024;
  Slot& slot(uint64_t addr) { return recent_[(addr ^ (addr >> 10)) & (kSlots - 1)]; }
  std::unordered_map<uint64_t, BlockFacts> map_;
  std::array<Slot, kSlots> recent_{};
};

}  // namespace tdsim::sim
