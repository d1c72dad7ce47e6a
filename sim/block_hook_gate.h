// The conditions that send a vCPU's block hook off its fast path (a block counted from
// the facts table and nothing else), kept as the bits of one word so that the fast path
// tests them all with a single compare.
//
// The hook runs at every block of a counted run, where a block can be two instructions:
// seven flags tested one by one were a measurable part of its cost (docs/performance.md,
// "Round 5"). Each condition is a Flag that reads and assigns like a bool and sets or
// clears its own bit as it is assigned, so no code that sets a condition can leave the
// word disagreeing with it.
#pragma once
#include <cstdint>

namespace tdsim::sim {

class BlockHookGate {
 public:
  // The bits; each Flag owns one.
  enum Bit : uint32_t {
    kNotCounting = 1u << 0,  // the block hook is not the counting one (the first block's alone)
    kExact = 1u << 1,        // a per-instruction hook counts
    kExhausted = 1u << 2,    // the slice is stopping
    kPause = 1u << 3,        // the host asked to stop between instructions
    kFarJump = 1u << 4,      // tdsim's own far jump runs, not the guest
    kModules = 1u << 5,      // firmware modules are named per block
    kHookError = 1u << 6,    // a hook's handler failed; the engine is stopping
  };

  BlockHookGate() = default;
  BlockHookGate(const BlockHookGate&) = delete;
  BlockHookGate& operator=(const BlockHookGate&) = delete;

  // True when any condition holds: the block goes to the slow path.
  bool closed() const noexcept { return bits_ != 0; }

  // A boolean whose value is its bit of the gate's word. `open_when` is the value that
  // leaves the fast path open (false for most conditions; true for "counting").
  class Flag {
   public:
    Flag(BlockHookGate& gate, Bit bit, bool open_when = false) noexcept
        : word_(gate.bits_), bit_(bit), open_when_(open_when) {
      *this = open_when;
    }
    Flag(const Flag&) = delete;
    Flag& operator=(const Flag&) = delete;  // assign a bool: copying a flag is a mistake

    Flag& operator=(bool value) noexcept {
      word_ = value == open_when_ ? (word_ & ~bit_) : (word_ | bit_);
      return *this;
    }
    operator bool() const noexcept { return ((word_ & bit_) != 0) != open_when_; }

   private:
    uint32_t& word_;
    uint32_t bit_;
    bool open_when_;
  };

 private:
  uint32_t bits_ = 0;
};

}  // namespace tdsim::sim
