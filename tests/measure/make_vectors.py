#!/usr/bin/env python3
"""Known-answer MRTD vectors for tests/measure/, computed independently of the C++ code.

Written from docs/tdx-abi.md, "MRTD accumulation", only (TDX module tdh_mem_page_add.c /
tdh_mr_extend.c): MRTD is ONE running SHA-384 over
  TDH.MEM.PAGE.ADD: 128 bytes  = "MEM.PAGE.ADD" @0, zeros, GPA u64 LE @16, zeros to 128
  TDH.MR.EXTEND:    128 bytes  = "MR.EXTEND" @0, zeros, chunk GPA u64 LE @16, zeros to 128
                    + the 256 chunk bytes as they sit in the TD page.
Not run by CI: run it by hand (python3 make_vectors.py) and paste the printed digests into
mrtd_kat_test.cc. The images built here must match the ones the test builds in C++.
"""
import hashlib
import struct

PAGE = 4096
CHUNK = 256


def page_add_record(gpa):
    return b"MEM.PAGE.ADD".ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(128 - 24)


def mr_extend_header(gpa):
    return b"MR.EXTEND".ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(128 - 24)


def page_bytes(region, page_gpa):
    """The 4 KiB of a page as the image holds it: region bytes, then zeros."""
    contents = region["bytes"].ljust(region["size"], b"\0")
    off = page_gpa - region["gpa"]
    return contents[off:off + PAGE]


def launch_pages(regions):
    """Private regions, ascending GPA; pages ascending within each region."""
    pages = []
    for r in sorted((r for r in regions if not r["shared"]), key=lambda r: r["gpa"]):
        for off in range(0, r["size"], PAGE):
            pages.append((r["gpa"] + off, r))
    return pages


def extend_page(h, gpa, data):
    for off in range(0, PAGE, CHUNK):
        h.update(mr_extend_header(gpa + off))
        h.update(data[off:off + CHUNK])


def mrtd(regions, order="kvm-per-page"):
    h = hashlib.sha384()
    pages = launch_pages(regions)
    if order == "kvm-per-page":
        for gpa, r in pages:
            h.update(page_add_record(gpa))
            if r["measured"]:
                extend_page(h, gpa, page_bytes(r, gpa))
    else:  # two-pass: every PAGE.ADD, then every MR.EXTEND, both in launch order
        for gpa, _ in pages:
            h.update(page_add_record(gpa))
        for gpa, r in pages:
            if r["measured"]:
                extend_page(h, gpa, page_bytes(r, gpa))
    return h.hexdigest()


def region(name, gpa, size, data=b"", shared=False, measured=False):
    return dict(name=name, gpa=gpa, size=size, bytes=data, shared=shared, measured=measured)


def pattern(n, mul, add):
    """Byte i = (i * mul + add) & 0xff: the same generator as pattern() in the C++ test."""
    return bytes((i * mul + add) & 0xFF for i in range(n))


def main():
    # (1) Nothing added: SHA-384 of the empty string.
    print("empty           ", hashlib.sha384(b"").hexdigest())
    # (2) One TDH.MEM.PAGE.ADD at GPA 0x1000, no extend.
    print("one_page_add    ", mrtd([region("p", 0x1000, PAGE)]))
    # (3) One page at 0x1000 added and extended; byte i = i*7+3.
    print("one_page_extend ", mrtd([region("p", 0x1000, PAGE, pattern(PAGE, 7, 3), measured=True)]))
    # (4) Two measured regions (one with short bytes -> zero filled), one unmeasured
    #     private region, one shared region (never hashed).
    img = [
        region("code", 0x2000, 2 * PAGE, pattern(PAGE + 100, 13, 1), measured=True),
        region("heap", 0x5000, PAGE, b"", measured=False),
        region("pool", 0x8000, PAGE, pattern(PAGE, 5, 9), shared=True),
        region("stub", 0xFFFFF000, PAGE, pattern(PAGE, 3, 0x55), measured=True),
    ]
    print("mixed_image     ", mrtd(img))
    # (5) Two measured pages: KVM per-page order vs QEMU-style two-pass.
    two = [region("two", 0x10000, 2 * PAGE, pattern(2 * PAGE, 11, 0x21), measured=True)]
    print("two_page_kvm    ", mrtd(two, "kvm-per-page"))
    print("two_page_twopass", mrtd(two, "two-pass"))


if __name__ == "__main__":
    main()
