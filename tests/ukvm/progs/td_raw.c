/* A TD built and run through the raw KVM TDX uAPI, in the style of a KVM selftest, written
 * only against Documentation/virt/kvm/api.rst and x86/intel-tdx.rst: no tdsim header. It
 * probes the capabilities, creates a TD with guest_memfd-backed memslots, initialises it
 * (INIT_VM, INIT_VCPU, INIT_MEM_REGION with MEASURE, FINALIZE) and, unless told "build",
 * runs the guest of stubs/td_raw_stub.S, checking every exit it produces.
 *
 *   td_raw build|run PAGES_FILE
 *
 * PAGES_FILE receives the pages added, in order (u64 GPA, u64 measured, 4096 bytes), so
 * the test can predict the MRTD; "run" prints the TDREPORT's MRTD as "mrtd <96 hex>".
 * Exit 0 pass, 1 fail, 4 skip (no TDX-capable KVM: the reason on stdout), as kselftest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The TDX uAPI (include/uapi/asm/kvm.h of Linux 6.16+), which older headers lack. */
#define X86_TDX_VM 5
#define CAP_SPLIT_IRQCHIP 121
#define CAP_EXIT_HYPERCALL 201
#define CAP_USER_MEMORY2 231
#define CAP_MEMORY_ATTRIBUTES 233
#define CAP_GUEST_MEMFD 234
#define CAP_VM_TYPES 235
#define EXIT_TDX 40
#define SYSTEM_EVENT_TDX_FATAL 7
#define MEM_GUEST_MEMFD (1u << 2)
#define MEMORY_ATTRIBUTE_PRIVATE (1ull << 3)
#define HC_MAP_GPA_RANGE 12
#define TDX_MEASURE_MEMORY_REGION 1u

enum { TDX_CAPABILITIES, TDX_INIT_VM, TDX_INIT_VCPU, TDX_INIT_MEM_REGION, TDX_FINALIZE_VM, TDX_GET_CPUID };

struct tdx_cmd { uint32_t id, flags; uint64_t data, hw_error; };
struct cpuid_hdr { uint32_t nent, padding; };
struct tdx_caps {
  uint64_t supported_attrs, supported_xfam;
  uint64_t kernel_r11, user_r11, kernel_r12, user_r12;
  uint64_t reserved[250];
  struct cpuid_hdr cpuid;
};
struct tdx_init_vm {
  uint64_t attributes, xfam, mrconfigid[6], mrowner[6], mrownerconfig[6], reserved[12];
  struct cpuid_hdr cpuid;
};
struct tdx_init_mem_region { uint64_t source_addr, gpa, nr_pages; };
struct create_guest_memfd { uint64_t size, flags, reserved[6]; };
struct memory_region2 {
  uint32_t slot, flags;
  uint64_t guest_phys_addr, memory_size, userspace_addr, guest_memfd_offset;
  uint32_t guest_memfd, pad1;
  uint64_t pad2[14];
};
struct memory_attributes { uint64_t address, size, attributes, flags; };
struct tdx_exit { uint64_t flags, nr, ret, a[5]; };

_Static_assert(sizeof(struct tdx_cmd) == 24, "kvm_tdx_cmd");
_Static_assert(sizeof(struct tdx_caps) == 2056, "kvm_tdx_capabilities");
_Static_assert(sizeof(struct tdx_init_vm) == 264, "kvm_tdx_init_vm");
_Static_assert(sizeof(struct create_guest_memfd) == 64, "kvm_create_guest_memfd");
_Static_assert(sizeof(struct memory_region2) == 160, "kvm_userspace_memory_region2");
_Static_assert(sizeof(struct memory_attributes) == 32, "kvm_memory_attributes");
_Static_assert(sizeof(struct kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2");

#define MEMORY_ENCRYPT_OP _IOWR(KVMIO, 0xba, unsigned long)
#define CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct create_guest_memfd)
#define SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct memory_region2)
#define SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct memory_attributes)

/* The guest's memory map (GPAW 48: the shared bit is bit 47). */
#define PAGE 4096ull
#define SHARED_BIT (1ull << 47)
#define LOW_GPA 0x0ull
#define LOW_SIZE 0x10000ull
#define HIGH_GPA 0xffff0000ull
#define HIGH_SIZE 0x10000ull
#define SHARED_GPA 0x100000ull
#define SHARED_SIZE 0x10000ull
#define MMIO_GPA 0x10000000ull
#define IN_VALUE 0x5a
#define MMIO_READ_VALUE 0x1122334455667788ull
#define QUOTE_GPA 0x100000ull
#define MAPGPA_GPA 0x8000ull
#define FATAL_CODE 0x1234

extern const uint8_t td_raw_stub[], td_raw_stub_end[];

static int fails;
static FILE* pages_out;

static void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
  exit(1);
}

static void skip(const char* why) {
  printf("SKIP: Requirement not met: %s\n", why);
  exit(4);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static long xioctl(int fd, unsigned long req, void* arg, const char* name) {
  long r = ioctl(fd, req, arg);
  CHECK(r >= 0, "%s: %s", name, strerror(errno));
  return r;
}

static void tdx_op(int fd, uint32_t id, uint32_t flags, uint64_t data, const char* name) {
  struct tdx_cmd cmd = {id, flags, data, 0};
  xioctl(fd, MEMORY_ENCRYPT_OP, &cmd, name);
  CHECK(cmd.hw_error == 0, "%s: hw_error %#llx", name, (unsigned long long)cmd.hw_error);
}

static void* page_alloc(uint64_t size) {
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED, "mmap %llu: %s", (unsigned long long)size, strerror(errno));
  return p;
}

/* KVM_GET_SUPPORTED_CPUID, growing the buffer on E2BIG. */
static struct kvm_cpuid2* supported_cpuid(int kvm) {
  for (uint32_t nent = 4;; nent *= 2) {
    struct kvm_cpuid2* c = calloc(1, sizeof *c + nent * sizeof(struct kvm_cpuid_entry2));
    c->nent = nent;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0) return c;
    CHECK(errno == E2BIG && nent < 1024, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    free(c);
  }
}

static void set_slot(int vm, uint32_t slot, uint64_t gpa, uint64_t size, void* host, int gmem, uint64_t off) {
  struct memory_region2 r = {0};
  r.slot = slot;
  r.flags = gmem >= 0 ? MEM_GUEST_MEMFD : 0;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = (uint64_t)(uintptr_t)host;
  r.guest_memfd = gmem >= 0 ? (uint32_t)gmem : 0;
  r.guest_memfd_offset = off;
  xioctl(vm, SET_USER_MEMORY_REGION2, &r, "KVM_SET_USER_MEMORY_REGION2");
}

static void set_private(int vm, uint64_t gpa, uint64_t size, int private) {
  struct memory_attributes a = {gpa, size, private ? MEMORY_ATTRIBUTE_PRIVATE : 0, 0};
  xioctl(vm, SET_MEMORY_ATTRIBUTES, &a, "KVM_SET_MEMORY_ATTRIBUTES");
}

static void add_page(int vcpu, uint64_t gpa, const uint8_t* src, int measure) {
  struct tdx_init_mem_region r = {(uint64_t)(uintptr_t)src, gpa, 1};
  tdx_op(vcpu, TDX_INIT_MEM_REGION, measure ? TDX_MEASURE_MEMORY_REGION : 0, (uint64_t)(uintptr_t)&r,
         "KVM_TDX_INIT_MEM_REGION");
  CHECK(r.nr_pages == 0 && r.gpa == gpa + PAGE, "KVM_TDX_INIT_MEM_REGION did not advance the region");
  uint64_t rec[2] = {gpa, (uint64_t)measure};
  CHECK(fwrite(rec, sizeof rec, 1, pages_out) == 1 && fwrite(src, PAGE, 1, pages_out) == 1, "writing the pages file");
}

/* The guest's private pages, as the program lays them out in its own memory. */
static void build_low_memory(uint8_t* low) {
  uint64_t* gdt = (uint64_t*)(low + 0x1000);
  gdt[1] = 0x00af9a000000ffffull; /* 64-bit code */
  gdt[2] = 0x00cf92000000ffffull; /* data */
  uint64_t* pml4 = (uint64_t*)(low + 0x2000);
  uint64_t* pdpt = (uint64_t*)(low + 0x3000);
  uint64_t* pd0 = (uint64_t*)(low + 0x6000);
  uint64_t* pd3 = (uint64_t*)(low + 0x7000);
  pml4[0] = 0x3000 | 3;
  pdpt[0] = 0x6000 | 3;
  pdpt[3] = 0x7000 | 3;
  pd0[0] = 0x0 | 0x83;           /* 2 MiB at 0, identity */
  pd3[511] = 0xffe00000ull | 0x83; /* 2 MiB at 0xffe00000: boot block and reset page */
}

static uint64_t mmio_value(const struct kvm_run* run) {
  uint64_t v = 0;
  memcpy(&v, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
  return v;
}

static void run_once(int vcpu, struct kvm_run* run) {
  (void)run;
  CHECK(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN: %s", strerror(errno));
}

/* Qword i of MRCONFIGID (0..5), MROWNER (6..11), MROWNERCONFIG (12..17) given to INIT_VM. */
static uint64_t config_qword(int i) { return 0x0c0f1900000000ull + (uint64_t)i * 0x0101010101ull; }

/* Runs to the next exit and expects an 8-byte MMIO write at MMIO_GPA + off. */
static uint64_t expect_report(int vcpu, struct kvm_run* run, uint64_t off, const char* what) {
  run_once(vcpu, run);
  CHECK(run->exit_reason == KVM_EXIT_MMIO, "%s: exit reason %u, want KVM_EXIT_MMIO", what, run->exit_reason);
  CHECK(run->mmio.phys_addr == MMIO_GPA + off && run->mmio.is_write && run->mmio.len == 8,
        "%s: MMIO %s of %u bytes at %#llx, want an 8-byte write at %#llx", what, run->mmio.is_write ? "write" : "read",
        run->mmio.len, (unsigned long long)run->mmio.phys_addr, (unsigned long long)(MMIO_GPA + off));
  return mmio_value(run);
}

static void run_guest(int vm, int vcpu, struct kvm_run* run, int vcpu_fd_for_regs) {
  uint64_t v = expect_report(vcpu, run, 0, "step 1");
  CHECK(v == 1, "step 1: marker %llu", (unsigned long long)v);

  /* get_ucall()'s pattern: immediate_exit returns EINTR and leaves the exit alone. */
  run->immediate_exit = 1;
  CHECK(ioctl(vcpu, KVM_RUN, 0) == -1 && errno == EINTR, "KVM_RUN with immediate_exit: want EINTR");
  CHECK(run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == MMIO_GPA, "immediate_exit changed the exit");
  run->immediate_exit = 0;
  struct kvm_regs regs;
  CHECK(ioctl(vcpu_fd_for_regs, KVM_GET_REGS, &regs) == -1 && errno == EINVAL, "KVM_GET_REGS on a TD: want EINVAL");
  /* The vCPU starts with KVM_TDX_INIT_VCPU's data in RCX and R8 (TDH.VP.INIT). */
  v = expect_report(vcpu, run, 8, "step 1 R8");
  CHECK(v == HIGH_GPA, "step 1: R8 at reset %#llx, want KVM_TDX_INIT_VCPU's %#llx", (unsigned long long)v,
        (unsigned long long)HIGH_GPA);

  run_once(vcpu, run);
  CHECK(run->exit_reason == KVM_EXIT_IO, "step 2: exit reason %u, want KVM_EXIT_IO", run->exit_reason);
  CHECK(run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x80 && run->io.size == 1 && run->io.count == 1,
        "step 2: port I/O %u port %#x size %u count %u", run->io.direction, run->io.port, run->io.size, run->io.count);
  CHECK(((uint8_t*)run)[run->io.data_offset] == 0x42, "step 2: OUT data %#x", ((uint8_t*)run)[run->io.data_offset]);
  v = expect_report(vcpu, run, 0, "step 2 marker");
  CHECK(v == 2, "step 2: marker %llu", (unsigned long long)v);

  run_once(vcpu, run);
  CHECK(run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN && run->io.port == 0x61,
        "step 3: want IN from port 0x61 (exit %u)", run->exit_reason);
  ((uint8_t*)run)[run->io.data_offset] = IN_VALUE;
  v = expect_report(vcpu, run, 8, "step 3");
  CHECK(v == IN_VALUE, "step 3: the guest read %#llx from port 0x61, want %#x", (unsigned long long)v, IN_VALUE);

  run_once(vcpu, run);
  CHECK(run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write && run->mmio.len == 8 &&
            run->mmio.phys_addr == MMIO_GPA + 0x10,
        "step 4: want an 8-byte MMIO read at %#llx", (unsigned long long)(MMIO_GPA + 0x10));
  uint64_t answer = MMIO_READ_VALUE;
  memcpy(run->mmio.data, &answer, 8);
  v = expect_report(vcpu, run, 8, "step 4");
  CHECK(v == MMIO_READ_VALUE, "step 4: the guest read %#llx", (unsigned long long)v);

  run_once(vcpu, run);
  CHECK(run->exit_reason == KVM_EXIT_HYPERCALL && run->hypercall.nr == HC_MAP_GPA_RANGE,
        "step 5: want KVM_EXIT_HYPERCALL(MAP_GPA_RANGE), exit %u", run->exit_reason);
  CHECK(run->hypercall.args[0] == MAPGPA_GPA && run->hypercall.args[1] == 1 && run->hypercall.args[2] == 0,
        "step 5: MapGPA gpa %#llx pages %llu attrs %#llx", (unsigned long long)run->hypercall.args[0],
        (unsigned long long)run->hypercall.args[1], (unsigned long long)run->hypercall.args[2]);
  set_private(vm, MAPGPA_GPA, PAGE, 0); /* what a VMM does before answering */
  run->hypercall.ret = 0;
  v = expect_report(vcpu, run, 8, "step 5");
  CHECK(v == 0, "step 5: MapGPA status %#llx", (unsigned long long)v);

  run_once(vcpu, run);
  struct tdx_exit t;
  memcpy(&t, &run->mmio, sizeof t);
  CHECK(run->exit_reason == EXIT_TDX && t.nr == 0x10002, "step 6: want KVM_EXIT_TDX GetQuote (exit %u nr %#llx)",
        run->exit_reason, (unsigned long long)t.nr);
  CHECK(t.a[0] == QUOTE_GPA && t.a[1] == PAGE, "step 6: GetQuote gpa %#llx size %#llx", (unsigned long long)t.a[0],
        (unsigned long long)t.a[1]);
  t.ret = 0;
  memcpy(&run->mmio, &t, sizeof t);
  v = expect_report(vcpu, run, 8, "step 6");
  CHECK(v == 0, "step 6: GetQuote status %#llx", (unsigned long long)v);

  v = expect_report(vcpu, run, 8, "step 7");
  CHECK(v == 0, "step 7: TDG.MR.REPORT status %#llx", (unsigned long long)v);
  printf("mrtd ");
  for (int i = 0; i < 6; ++i) {
    v = expect_report(vcpu, run, 0x18, "step 7 MRTD");
    for (int b = 0; b < 8; ++b) printf("%02x", (unsigned)((v >> (8 * b)) & 0xff));
  }
  printf("\n");
  /* MRCONFIGID, MROWNER and MROWNERCONFIG are KVM_TDX_INIT_VM's, verbatim. */
  for (int i = 0; i < 18; ++i) {
    v = expect_report(vcpu, run, 0x18, "step 7 MRCONFIGID/MROWNER/MROWNERCONFIG");
    CHECK(v == config_qword(i), "step 7: TDREPORT qword %d after MRTD is %#llx, want %#llx", i,
          (unsigned long long)v, (unsigned long long)config_qword(i));
  }

  run_once(vcpu, run);
  CHECK(run->exit_reason == KVM_EXIT_SYSTEM_EVENT && run->system_event.type == SYSTEM_EVENT_TDX_FATAL,
        "step 8: want KVM_EXIT_SYSTEM_EVENT(TDX_FATAL), exit %u", run->exit_reason);
  CHECK(run->system_event.ndata >= 13 && run->system_event.data[12] == FATAL_CODE, "step 8: error code %#llx",
        (unsigned long long)run->system_event.data[12]);
}

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[1], "build") && strcmp(argv[1], "run"))) {
    fprintf(stderr, "usage: td_raw build|run PAGES_FILE\n");
    return 1;
  }
  const int run_guest_too = strcmp(argv[1], "run") == 0;
  pages_out = fopen(argv[2], "wb");
  CHECK(pages_out, "%s: %s", argv[2], strerror(errno));

  /* Probing, as the selftests library does: open /dev/kvm around each question. */
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) skip("/dev/kvm cannot be opened");
  if (!(ioctl(kvm, KVM_CHECK_EXTENSION, CAP_VM_TYPES) & (1 << X86_TDX_VM))) skip("is_tdx_supported()");
  close(kvm);
  kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  CHECK(kvm >= 0, "reopening /dev/kvm: %s", strerror(errno));
  CHECK(ioctl(kvm, KVM_GET_API_VERSION, 0) == 12, "KVM_GET_API_VERSION");
  CHECK(ioctl(kvm, KVM_CHECK_EXTENSION, CAP_GUEST_MEMFD) > 0, "KVM_CAP_GUEST_MEMFD");
  CHECK(ioctl(kvm, KVM_CHECK_EXTENSION, CAP_USER_MEMORY2) > 0, "KVM_CAP_USER_MEMORY2");
  CHECK(ioctl(kvm, KVM_CHECK_EXTENSION, CAP_MEMORY_ATTRIBUTES) & MEMORY_ATTRIBUTE_PRIVATE, "KVM_CAP_MEMORY_ATTRIBUTES");
  CHECK(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) > 0, "KVM_CAP_IMMEDIATE_EXIT");
  const long run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  CHECK(run_size >= (long)sizeof(struct kvm_run), "KVM_GET_VCPU_MMAP_SIZE: %ld", run_size);
  struct kvm_cpuid2* cpuid = supported_cpuid(kvm);
  for (uint32_t i = 0; i < cpuid->nent; ++i) {
    struct kvm_cpuid_entry2* e = &cpuid->entries[i];
    if (e->function != 0x80000008) continue;
    const uint32_t gpa_bits = (e->eax >> 16) & 0xff, va_bits = (e->eax >> 8) & 0xff;
    CHECK((gpa_bits == 48 || gpa_bits == 52) && (va_bits == 48 || va_bits == 57), "CPUID 0x80000008 EAX %#x", e->eax);
    e->eax = (e->eax & ~0xff0000u) | (48u << 16); /* this TD: GPAW 48 */
  }

  /* The TD. */
  const int vm = (int)xioctl(kvm, KVM_CREATE_VM, (void*)X86_TDX_VM, "KVM_CREATE_VM(KVM_X86_TDX_VM)");
  CHECK(ioctl(vm, KVM_CREATE_IRQCHIP, 0) == -1 && errno == ENOTTY, "KVM_CREATE_IRQCHIP on a TD: want ENOTTY");
  struct kvm_enable_cap cap = {.cap = CAP_SPLIT_IRQCHIP, .args = {24}};
  xioctl(vm, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(SPLIT_IRQCHIP)");
  struct kvm_enable_cap hc = {.cap = CAP_EXIT_HYPERCALL, .args = {1ull << HC_MAP_GPA_RANGE}};
  xioctl(vm, KVM_ENABLE_CAP, &hc, "KVM_ENABLE_CAP(EXIT_HYPERCALL)");

  struct tdx_caps* caps = NULL;
  for (uint32_t nent = 0;; nent = nent ? nent * 2 : 4) {
    caps = calloc(1, sizeof *caps + nent * sizeof(struct kvm_cpuid_entry2));
    caps->cpuid.nent = nent;
    struct tdx_cmd cmd = {TDX_CAPABILITIES, 0, (uint64_t)(uintptr_t)caps, 0};
    if (ioctl(vm, MEMORY_ENCRYPT_OP, &cmd) == 0) break;
    CHECK(errno == E2BIG && nent < 1024, "KVM_TDX_CAPABILITIES: %s", strerror(errno));
    free(caps);
  }
  CHECK((caps->supported_xfam & 3) == 3, "KVM_TDX_CAPABILITIES: XFAM %#llx", (unsigned long long)caps->supported_xfam);

  struct tdx_init_vm* init = calloc(1, sizeof *init + cpuid->nent * sizeof(struct kvm_cpuid_entry2));
  init->xfam = 3;
  for (int i = 0; i < 6; ++i) {
    init->mrconfigid[i] = config_qword(i);
    init->mrowner[i] = config_qword(6 + i);
    init->mrownerconfig[i] = config_qword(12 + i);
  }
  init->cpuid.nent = cpuid->nent;
  memcpy(init + 1, cpuid->entries, cpuid->nent * sizeof(struct kvm_cpuid_entry2));
  tdx_op(vm, TDX_INIT_VM, 0, (uint64_t)(uintptr_t)init, "KVM_TDX_INIT_VM");

  const int vcpu = (int)xioctl(vm, KVM_CREATE_VCPU, (void*)0, "KVM_CREATE_VCPU");
  struct kvm_run* run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  CHECK(run != MAP_FAILED, "mmap of the vCPU fd: %s", strerror(errno));
  struct kvm_cpuid2* td_cpuid = calloc(1, sizeof *td_cpuid + 256 * sizeof(struct kvm_cpuid_entry2));
  td_cpuid->nent = 256;
  tdx_op(vcpu, TDX_GET_CPUID, 0, (uint64_t)(uintptr_t)td_cpuid, "KVM_TDX_GET_CPUID");
  xioctl(vcpu, KVM_SET_CPUID2, td_cpuid, "KVM_SET_CPUID2");
  struct kvm_cpuid2* again = calloc(1, sizeof *again + 256 * sizeof(struct kvm_cpuid_entry2));
  again->nent = 256;
  xioctl(vcpu, KVM_GET_CPUID2, again, "KVM_GET_CPUID2");
  CHECK(again->nent == td_cpuid->nent &&
            !memcmp(again->entries, td_cpuid->entries, td_cpuid->nent * sizeof(struct kvm_cpuid_entry2)),
        "KVM_GET_CPUID2 differs from what KVM_SET_CPUID2 set");
  struct kvm_mp_state mp = {KVM_MP_STATE_RUNNABLE};
  xioctl(vcpu, KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE");
  tdx_op(vcpu, TDX_INIT_VCPU, 0, HIGH_GPA, "KVM_TDX_INIT_VCPU");

  /* Memory: private RAM low and high (one guest_memfd), a shared-only slot. */
  struct create_guest_memfd g = {LOW_SIZE + HIGH_SIZE, 0, {0}};
  const int gmem = (int)xioctl(vm, CREATE_GUEST_MEMFD, &g, "KVM_CREATE_GUEST_MEMFD");
  uint8_t* low = page_alloc(LOW_SIZE);
  uint8_t* high = page_alloc(HIGH_SIZE);
  uint8_t* shared = page_alloc(SHARED_SIZE);
  set_slot(vm, 0, LOW_GPA, LOW_SIZE, low, gmem, 0);
  set_slot(vm, 1, HIGH_GPA, HIGH_SIZE, high, gmem, LOW_SIZE);
  set_slot(vm, 2, SHARED_GPA, SHARED_SIZE, shared, -1, 0);
  set_private(vm, LOW_GPA, LOW_SIZE, 1);
  set_private(vm, HIGH_GPA, HIGH_SIZE, 1);

  build_low_memory(low);
  const uint64_t mmio_base = SHARED_BIT | MMIO_GPA;
  memcpy(high, &mmio_base, sizeof mmio_base); /* the boot block at 0xffff0000 */
  CHECK(td_raw_stub_end - td_raw_stub == (long)PAGE, "the stub is one page");
  memcpy(high + HIGH_SIZE - PAGE, td_raw_stub, PAGE);
  for (uint64_t gpa = 0; gpa < 0x8000; gpa += PAGE) add_page(vcpu, gpa, low + gpa, 1);
  add_page(vcpu, HIGH_GPA, high, 1);
  add_page(vcpu, HIGH_GPA + HIGH_SIZE - PAGE, high + HIGH_SIZE - PAGE, 1);
  fclose(pages_out);
  tdx_op(vm, TDX_FINALIZE_VM, 0, 0, "KVM_TDX_FINALIZE_VM");
  struct tdx_init_mem_region late = {(uint64_t)(uintptr_t)low, 0x9000, 1};
  struct tdx_cmd late_cmd = {TDX_INIT_MEM_REGION, 0, (uint64_t)(uintptr_t)&late, 0};
  CHECK(ioctl(vcpu, MEMORY_ENCRYPT_OP, &late_cmd) == -1 && errno == EINVAL, "INIT_MEM_REGION after FINALIZE: want EINVAL");

  if (run_guest_too) run_guest(vm, vcpu, run, vcpu);
  printf("PASS: td_raw %s\n", argv[1]);
  (void)fails;
  return 0;
}
