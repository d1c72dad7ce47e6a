// Host memory backing a running TD, one page-aligned block per TdImage region, and the
// one checked accessor through which the host follows any guest-supplied pointer.
// Backends map these blocks into their engine (uc_mem_map_ptr, KVM memslots).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "td_image.h"

namespace tdsim {

class GuestMemory {
 public:
  struct Block {
    const Region* region;  // owned by the TdImage this memory was built from
    uint64_t gpa;          // untagged
    uint64_t size;         // multiple of 4 KiB
    uint8_t* host;         // page aligned, private anonymous mapping
  };

  explicit GuestMemory(const TdImage& image);
  // A view over blocks another owner mapped (the user-space KVM's guest_memfd mappings):
  // never unmapped or reset here; Block::region may be null.
  struct Borrowed {};
  GuestMemory(Borrowed, std::vector<Block> blocks) : blocks_(std::move(blocks)), owned_(false) {}
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  const std::vector<Block>& blocks() const { return blocks_; }
  // Put every block back to the image's contents (the image must be the same one).
  void reset(const TdImage& image);
  // A borrowed view follows its owner's mappings (ignored on memory this object owns).
  void set_borrowed_blocks(std::vector<Block> blocks) {
    if (!owned_) blocks_ = std::move(blocks);
  }

  // Checked accessors: false (nothing copied) unless [gpa, gpa+len) lies entirely in
  // guest memory; contiguous blocks may be crossed. gpa is untagged.
  bool read(uint64_t gpa, void* dst, uint64_t len) const;
  bool write(uint64_t gpa, const void* src, uint64_t len);

  enum class StringStatus { kOk, kOutOfRange, kNoTerminator };
  // A NUL-terminated string starting at gpa of at most max_len bytes (NUL excluded).
  StringStatus read_string(uint64_t gpa, uint64_t max_len, std::string& out) const;

  // The block holding `gpa` (untagged), or nullptr.
  const Block* block_containing(uint64_t gpa) const { return block_at(gpa); }

  // Host address of [gpa, gpa+len) if it lies inside one block, else nullptr.
  uint8_t* host_ptr(uint64_t gpa, uint64_t len) const;

 private:
  const Block* block_at(uint64_t gpa) const;
  template <class Fn>
  bool for_each_piece(uint64_t gpa, uint64_t len, Fn fn) const;
  std::vector<Block> blocks_;
  bool owned_ = true;
};

}  // namespace tdsim
