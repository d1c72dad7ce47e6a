// Host memory backing a running TD, one page-aligned block per TdImage region, and the
// one checked accessor through which the host follows any guest-supplied pointer.
// Backends map these blocks into their engine (uc_mem_map_ptr, KVM memslots).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
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
  // Blocks that follow each other in GPA lie next to each other in the host too when this
  // memory made them (one mapping per run), so an engine may map the run as one piece.

  explicit GuestMemory(const TdImage& image);
  // Memory someone else owns (a program's memslots under the user-space KVM, ukvm/): one
  // block per region of `image`, at `hosts[i]`, nothing copied and nothing unmapped when
  // this object goes. reset() is refused (std::logic_error): there is no image to reset to.
  GuestMemory(const TdImage& image, const std::vector<uint8_t*>& hosts);
  // One more block over memory someone else owns (a region appended to the image that
  // `region` belongs to; it must not overlap another block).
  void add_external(const Region& region, uint8_t* host);
  // All blocks again, over memory someone else owns, after `image`'s regions changed
  // (a private/shared conversion moved a range to other pages). As the constructor.
  void rebind(const TdImage& image, const std::vector<uint8_t*>& hosts);
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  const std::vector<Block>& blocks() const { return blocks_; }
  // Put every block back to the image's contents (the image must be the same one). Not
  // on a memory a MemorySnapshot was taken of: its content pages are then mapped from the
  // snapshot's file, which dropping pages would bring back (memory_snapshot.h).
  void reset(const TdImage& image);

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
  bool owned_ = true;  // the blocks are our anonymous mappings
};

}  // namespace tdsim
