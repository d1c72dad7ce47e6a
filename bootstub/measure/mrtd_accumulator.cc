// The record layouts and the running SHA-384 of TDH.MEM.PAGE.ADD / TDH.MR.EXTEND.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

#include "mrtd.h"

namespace tdsim::measure {
namespace {

// The module's header struct: api_name[16] zero padded @0, gpa u64 LE @16, zeros to 128.
Record make_record(const char* api_name, uint64_t gpa) {
  Record r{};
  std::memcpy(r.data(), api_name, std::strlen(api_name));  // at most 12 bytes < 16
  for (int i = 0; i < 8; ++i) r[16 + i] = static_cast<uint8_t>(gpa >> (8 * i));
  return r;
}

[[noreturn]] void throw_openssl(const char* call) {
  unsigned long e = ERR_get_error();
  char buf[256] = "no OpenSSL error queued";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  throw std::runtime_error(fmt::format("MRTD: {} failed: {}", call, buf));
}

}  // namespace

Record page_add_record(uint64_t gpa) { return make_record("MEM.PAGE.ADD", gpa); }
Record mr_extend_header(uint64_t gpa) { return make_record("MR.EXTEND", gpa); }

struct MrtdAccumulator::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md;
};

MrtdAccumulator::MrtdAccumulator(Tap tap) : ctx_(std::make_unique<Ctx>()), tap_(std::move(tap)) {
  ctx_->md.reset(EVP_MD_CTX_new());
  if (!ctx_->md) throw_openssl("EVP_MD_CTX_new");
  // TDH.MNG.INIT starts the measurement: an empty SHA-384 stream.
  if (EVP_DigestInit_ex(ctx_->md.get(), EVP_sha384(), nullptr) != 1)
    throw_openssl("EVP_DigestInit_ex(sha384)");
}

MrtdAccumulator::~MrtdAccumulator() = default;
MrtdAccumulator::MrtdAccumulator(MrtdAccumulator&&) noexcept = default;
MrtdAccumulator& MrtdAccumulator::operator=(MrtdAccumulator&&) noexcept = default;

void MrtdAccumulator::update(std::span<const uint8_t> bytes) {
  if (!ctx_ || !ctx_->md)
    throw std::logic_error("MRTD: accumulator used after finalize() (TDH.MR.FINALIZE is final)");
  if (EVP_DigestUpdate(ctx_->md.get(), bytes.data(), bytes.size()) != 1)
    throw_openssl("EVP_DigestUpdate");
  if (tap_) tap_(bytes);
}

void MrtdAccumulator::page_add(uint64_t gpa) {
  if (gpa % kPageSize)
    throw std::invalid_argument(fmt::format(
        "MRTD: TDH.MEM.PAGE.ADD GPA {:#x} is not 4 KiB aligned", gpa));
  update(page_add_record(gpa));
  ++pages_added_;
}

void MrtdAccumulator::mr_extend(uint64_t gpa, std::span<const uint8_t, kExtendChunk> chunk) {
  if (gpa % kExtendChunk)
    throw std::invalid_argument(fmt::format(
        "MRTD: TDH.MR.EXTEND chunk GPA {:#x} is not 256-byte aligned", gpa));
  update(mr_extend_header(gpa));
  update(chunk);
  ++chunks_extended_;
}

Mrtd MrtdAccumulator::finalize() {
  if (!ctx_ || !ctx_->md)
    throw std::logic_error("MRTD: finalize() called twice (TDH.MR.FINALIZE is final)");
  Mrtd out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), out.digest.data(), &len) != 1)
    throw_openssl("EVP_DigestFinal_ex");
  if (len != out.digest.size())
    throw std::runtime_error(fmt::format("MRTD: SHA-384 produced {} bytes, not 48", len));
  ctx_->md.reset();
  return out;
}

}  // namespace tdsim::measure
