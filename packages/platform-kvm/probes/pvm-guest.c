// Probe harness: runs small guest programs on this host's /dev/kvm (PVM) and
// prints how each one ends. Usage: pvm-guest SCENARIO [ARG...]
//
// The guest starts in 64-bit supervisor mode (CS 0x10, DPL 0) on identity
// page tables (2 MiB pages, user and writable, first 1 GiB), with its code at
// 0x100000, a stack below 0x180000, a PVCS candidate page at 0x200000 and a
// scratch page at 0x201000. A guest `out` to port 0x10 is a report: the host
// prints rax, rbx, rcx, rdx, rsi, rdi and resumes it. Port 0x11 ends the run.
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (16UL << 20)
#define CODE 0x100000UL
#define USER_CODE 0x300000UL
#define STACK_TOP 0x180000UL
#define PVCS 0x200000UL
#define SCRATCH 0x201000UL

static int kvm, vm, vcpu;
static struct kvm_run *run;
static uint8_t *mem;

static void die(const char *what) { perror(what); exit(2); }

static void setup(void) {
  kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open");
  vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t)mem};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("SET_USER_MEMORY_REGION");
  vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + 256 * sizeof(struct kvm_cpuid_entry2));
  cpuid->nent = 256;
  if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("GET_SUPPORTED_CPUID");
  if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) die("SET_CPUID2");

  // PML4 at 0x1000 -> PDPT at 0x2000 -> PD at 0x3000 (2 MiB pages).
  uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000), *pd = (uint64_t *)(mem + 0x3000);
  pml4[0] = 0x2000 | 7;
  pdpt[0] = 0x3000 | 7;
  for (int i = 0; i < 512; i++) pd[i] = ((uint64_t)i << 21) | 0x87;

  struct kvm_sregs s;
  if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) die("GET_SREGS");
  s.cr3 = 0x1000;
  s.cr4 = (1 << 5) | (1 << 9) | (1 << 10) | (1 << 16);  // PAE OSFXSR OSXMMEXCPT FSGSBASE
  s.cr0 = 0x80050033;                                    // PG AM WP NE ET MP PE
  s.efer = 0xd01;                                        // NXE LMA LME SCE
  struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
  struct kvm_segment data = {.base = 0, .limit = 0xffffffff, .selector = 0x18, .type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
  s.cs = code;
  s.ss = s.ds = s.es = s.fs = s.gs = data;
  if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) die("SET_SREGS");
}

static void set_msr(uint32_t index, uint64_t value) {
  struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = {.h = {.nmsrs = 1}, .e = {.index = index, .data = value}};
  int r = ioctl(vcpu, KVM_SET_MSRS, &m);
  printf("host KVM_SET_MSRS %#x=%#llx -> %d\n", index, (unsigned long long)value, r);
}

static void start(uint64_t rip) {
  struct kvm_regs r;
  memset(&r, 0, sizeof r);
  r.rip = rip;
  r.rsp = STACK_TOP;
  r.rflags = 2;
  if (ioctl(vcpu, KVM_SET_REGS, &r) < 0) die("SET_REGS");
}

static const char *reason_name(int reason) {
  switch (reason) {
  case KVM_EXIT_IO: return "IO";
  case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
  case KVM_EXIT_HLT: return "HLT";
  case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
  case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
  case KVM_EXIT_MMIO: return "MMIO";
  case KVM_EXIT_INTR: return "INTR";
  case KVM_EXIT_X86_RDMSR: return "RDMSR";
  case KVM_EXIT_X86_WRMSR: return "WRMSR";
  default: return "other";
  }
}

// Runs until port 0x11 or a non-IO exit; prints reports. Returns the last exit reason.
static int go(void) {
  for (;;) {
    int r = ioctl(vcpu, KVM_RUN, 0);
    struct kvm_regs g;
    ioctl(vcpu, KVM_GET_REGS, &g);
    if (r < 0) { perror("KVM_RUN"); return -1; }
    if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10) {
      printf("report rip=%#llx rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx rsi=%#llx rdi=%#llx r11=%#llx\n", g.rip, g.rax, g.rbx, g.rcx, g.rdx, g.rsi, g.rdi, g.r11);
      continue;
    }
    struct kvm_sregs s;
    ioctl(vcpu, KVM_GET_SREGS, &s);
    printf("exit %s(%d) rip=%#llx rax=%#llx rcx=%#llx r11=%#llx cs=%#x dpl=%d", reason_name(run->exit_reason), run->exit_reason, g.rip, g.rax, g.rcx, g.r11, s.cs.selector, s.cs.dpl);
    if (run->exit_reason == KVM_EXIT_IO) printf(" port=%#x", run->io.port);
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) printf(" suberror=%u", run->internal.suberror);
    printf("\n");
    return run->exit_reason;
  }
}

static void put(uint64_t at, const uint8_t *code, size_t n) { memcpy(mem + at, code, n); }

// Emits `mov r64, imm64` (REX.W B8+r) for rax(0) rcx(1) rdx(2) rbx(3) rsi(6) rdi(7).
static size_t mov_imm(uint8_t *p, int reg, uint64_t v) {
  p[0] = 0x48; p[1] = 0xb8 + reg; memcpy(p + 2, &v, 8); return 10;
}
static const uint8_t OUT_REPORT[] = {0xe6, 0x10};  // out 0x10, al
static const uint8_t OUT_END[] = {0xe6, 0x11};     // out 0x11, al
static const uint8_t SYNTH_CPUID[] = {0x0f, 0x01, 0x3c, 0x25, 0x50, 0x56, 0x4d, 0xff, 0x0f, 0xa2};
static const uint8_t WRMSR[] = {0x0f, 0x30}, RDMSR[] = {0x0f, 0x32}, SYSCALL[] = {0x0f, 0x05};

static void dump_page(uint64_t at) {
  uint64_t *q = (uint64_t *)(mem + at);
  for (int i = 0; i < 16; i++) printf("  +%#04x %#018llx%s", i * 8, (unsigned long long)q[i], i % 4 == 3 ? "\n" : "");
}

static void to_user(uint64_t rip) {
  struct kvm_sregs s;
  ioctl(vcpu, KVM_GET_SREGS, &s);
  s.cs.selector = 0x33; s.cs.dpl = 3;
  s.ss.selector = 0x2b; s.ss.dpl = 3;
  s.ds.selector = s.es.selector = 0; 
  if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) die("SET_SREGS user");
  struct kvm_regs r;
  ioctl(vcpu, KVM_GET_REGS, &r);
  r.rip = rip; r.rsp = STACK_TOP - 0x1000; r.rflags = 0x202; r.rax = 39; r.rbx = 0x1234;
  if (ioctl(vcpu, KVM_SET_REGS, &r) < 0) die("SET_REGS user");
}

static int user_mode(int n, char **kv);

#define EMIT(bytes) (memcpy(p, bytes, sizeof bytes), p += sizeof bytes)

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: pvm-guest cpuid|rdmsr FIRST LAST|wrmsr INDEX VALUE [INDEX VALUE...]|hypercall NR RBX R10\n"); return 2; }
  setup();
  uint8_t code[4096], *p = code;
  const char *what = argv[1];
  if (!strcmp(what, "cpuid")) {
    // synthetic CPUID for each leaf given, then a report; the plain CPUID afterwards.
    for (int i = 2; i < argc; i++) {
      uint64_t leaf = strtoull(argv[i], 0, 0);
      p += mov_imm(p, 0, leaf); p += mov_imm(p, 1, 0); EMIT(SYNTH_CPUID); EMIT(OUT_REPORT);
    }
  } else if (!strcmp(what, "rdmsr")) {
    // RDMSR of each index; rcx kept in rsi for the report.
    for (uint64_t index = strtoull(argv[2], 0, 0); index <= strtoull(argv[3], 0, 0); index++) {
      p += mov_imm(p, 1, index); p += mov_imm(p, 6, index); EMIT(RDMSR); EMIT(OUT_REPORT);
    }
  } else if (!strcmp(what, "wrmsr")) {
    for (int i = 2; i + 1 < argc; i += 2) {
      uint64_t index = strtoull(argv[i], 0, 0), value = strtoull(argv[i + 1], 0, 0);
      p += mov_imm(p, 1, index); p += mov_imm(p, 6, index); p += mov_imm(p, 0, value & 0xffffffff); p += mov_imm(p, 2, value >> 32);
      EMIT(WRMSR); EMIT(OUT_REPORT);
    }
  } else if (!strcmp(what, "hypercall")) {
    p += mov_imm(p, 0, strtoull(argv[2], 0, 0)); p += mov_imm(p, 3, strtoull(argv[3], 0, 0));
    *p++ = 0x49; *p++ = 0xba; uint64_t r10 = strtoull(argv[4], 0, 0); memcpy(p, &r10, 8); p += 8;  // mov r10, imm64
    EMIT(SYSCALL); EMIT(OUT_REPORT);
  } else if (!strcmp(what, "user")) {
    // user MSR VALUE...: the supervisor writes the MSRs and reports; the host
    // moves it to user mode at USER_CODE with KVM_SET_SREGS; the user code
    // makes a system call, whose handler at MSR_LSTAR reports; the host then
    // prints the first 128 bytes of the PVCS candidate page.
    return user_mode(argc - 2, argv + 2);
  } else { fprintf(stderr, "unknown scenario\n"); return 2; }
  EMIT(OUT_END);
  put(CODE, code, p - code);
  start(CODE);
  go();
  return 0;
}

static int user_mode(int n, char **kv) {
  uint8_t code[4096], *p = code;
  memset(mem + PVCS, 0xaa, 4096);
  for (int i = 0; i + 1 < n; i += 2) {
    uint64_t index = strtoull(kv[i], 0, 0), value = strtoull(kv[i + 1], 0, 0);
    p += mov_imm(p, 1, index); p += mov_imm(p, 0, value & 0xffffffff); p += mov_imm(p, 2, value >> 32);
    EMIT(WRMSR);
  }
  EMIT(OUT_END);
  put(CODE, code, p - code);
  // The handler at CODE+0x800: report, then end.
  uint8_t handler[] = {0xe6, 0x10, 0xe6, 0x11};
  put(CODE + 0x800, handler, sizeof handler);
  // User code: syscall; jmp $.
  uint8_t user[] = {0x0f, 0x05, 0xeb, 0xfe};
  put(USER_CODE, user, sizeof user);
  struct { struct kvm_msrs h; struct kvm_msr_entry e[2]; } m = {.h = {.nmsrs = 2}, .e = {{.index = 0xc0000082, .data = CODE + 0x800}, {.index = 0xc0000081, .data = (0x23ULL << 48) | (0x10ULL << 32)}}};
  printf("host set LSTAR/STAR: %d\n", ioctl(vcpu, KVM_SET_MSRS, &m));
  start(CODE);
  if (go() != KVM_EXIT_IO) return 1;
  to_user(USER_CODE);
  int reason = go();
  printf("PVCS page after the system call:\n");
  dump_page(PVCS);
  return reason == KVM_EXIT_IO ? 0 : 1;
}
