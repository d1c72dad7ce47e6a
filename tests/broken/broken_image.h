// Broken TD images for the explanation tests: the real layout (build_image) with a
// broken stub or guest, or a built image whose region bytes are edited the way a buggy
// host would have written them (the TdImage copies are kept in step).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/td_image.h"

namespace tdsim::broken {

TdImage image(const char* guest_elf, const char* stub_bin = nullptr);

// Overwrites image bytes at `gpa` (a stub instruction's operand, a table entry).
void poke(TdImage& im, uint64_t gpa, const void* src, size_t len);
void set_param32(TdImage& im, uint64_t offset, uint32_t v);  // offset in TdBootParams
void set_guest_code(TdImage& im, uint32_t vcpu, uint64_t gva);
void set_idtr_limit(TdImage& im, uint16_t limit);
void set_gdt_entry(TdImage& im, uint16_t selector, uint64_t descriptor);
// The GPA of a page of zeroes in low RAM that nothing else uses (filler RAM).
uint64_t zero_page(const TdImage& im);

// Address of a label of a stub built by tdsim_add_stub, from its _symbols.inc file.
uint64_t stub_label(const TdImage& im, const char* symbols_inc, const std::string& label);
// Address of a symbol of the image (stub labels of the built-in stub, guest symbols).
uint64_t symbol(const TdImage& im, const std::string& name);

std::vector<Event> run_unicorn(const TdImage& im, uint64_t max_insns = 2'000'000);
std::vector<Event> run_kvm(const TdImage& im);  // empty + GTEST_SKIP reason via kvm_usable()
std::string kvm_unusable_reason();             // "" when plain KVM can run here

const FaultEvent* only_fault(const std::vector<Event>& ev);
std::string dump(const std::vector<Event>& ev);     // describe() + explanations
std::string joined(const std::vector<std::string>& lines);

}  // namespace tdsim::broken
