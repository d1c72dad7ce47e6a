// libFuzzer harness: gdbstub::RspReader on an arbitrary byte stream (what a hostile or
// broken gdb client sends), cut into reads of fuzzed sizes. Checks after each input:
// the same items come out however the stream is cut; a packet's payload is at most
// kMaxPacketPayload, holds no '#', and matched its checksum; the reader never holds
// more than one packet plus the last read.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "gdbstub/rsp_packet.h"

using namespace tdsim::gdbstub;

namespace {

using Items = std::vector<std::pair<RspItem::Kind, std::string>>;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_rsp_reader: %s\n", what);
  std::abort();
}

Items read_all(const std::string& stream, const std::vector<size_t>& cuts) {
  RspReader r;
  Items out;
  size_t at = 0;
  for (size_t i = 0; at < stream.size(); ++i) {
    const size_t n = std::min(stream.size() - at, cuts.empty() ? stream.size() : cuts[i % cuts.size()]);
    r.feed(std::string_view(stream).substr(at, n));
    at += n;
    while (auto it = r.next()) {
      if (it->kind == RspItem::Kind::kPacket) {
        if (it->payload.size() > kMaxPacketPayload) finding("payload longer than the advertised PacketSize");
        if (it->payload.find('#') != std::string::npos) finding("payload holds a '#'");
      }
      out.emplace_back(it->kind, std::move(it->payload));
    }
    if (r.buffered() > kMaxPacketPayload + 3 + n) finding("reader holds more than one packet plus one read");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<size_t> cuts;
  const size_t ncuts = in.ConsumeIntegralInRange<size_t>(0, 8);
  for (size_t i = 0; i < ncuts; ++i) cuts.push_back(in.ConsumeIntegralInRange<size_t>(1, 5000));
  // A repeated body lets small inputs build packets longer than the bound.
  const size_t repeat = in.ConsumeIntegralInRange<size_t>(1, 64);
  const std::string body = in.ConsumeRemainingBytesAsString();
  std::string stream;
  for (size_t i = 0; i < repeat; ++i) stream += body;
  if (read_all(stream, cuts) != read_all(stream, {})) finding("items depend on how the stream is cut into reads");
  return 0;
}
