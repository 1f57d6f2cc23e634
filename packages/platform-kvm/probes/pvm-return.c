// Probe: the cost of each way back to user mode, and what an exception in
// user mode looks like. Usage: pvm-return MODE [ROUNDS] or pvm-return fault HEX [SKIP]
//   ioctl   user `1: syscall; jmp 1b`, handler at MSR_LSTAR `out 0x10`; the host
//           returns to rip = rcx with KVM_SET_SREGS + KVM_SET_REGS
//   sync    the same through kvm_run's sync registers
//   regs    the same with KVM_SET_REGS only
//   out     a supervisor-mode `out` loop: the plain exit cost
//   userout a user-mode `out` loop: an exit with no system call
//   fault   runs the user code given in hex and prints the exit, the vector,
//           error code and CR2; with SKIP, resumes at rip + SKIP once
// LSTAR_HIGH=1 (2 MiB page) or LSTAR_HIGH=4k puts the handler at a high address.
// Prints the mean round trip in microseconds.
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
static int vcpu;
static struct kvm_run *run;
static uint8_t *mem;

static void die(const char *what) { perror(what); exit(2); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "ioctl";
  int rounds = argc > 2 ? atoi(argv[2]) : 2000;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("vm");
  mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  struct kvm_userspace_memory_region region = {.slot = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t)mem};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("region");
  vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + 256 * sizeof(struct kvm_cpuid_entry2));
  cpuid->nent = 256;
  ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid);
  ioctl(vcpu, KVM_SET_CPUID2, cpuid);
  uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000), *pd = (uint64_t *)(mem + 0x3000);
  pml4[0] = 0x2000 | 7; pdpt[0] = 0x3000 | 7;
  for (int i = 0; i < 8; i++) pd[i] = ((uint64_t)i << 21) | 0x87;
  // LSTAR=high: the same handler seen through PML4 entry 255 at 0x7fffffe00000 + 0x100800.
  const char *lstarEnv = getenv("LSTAR_HIGH");
  uint64_t lstar = 0x100800;
  if (lstarEnv) {
    uint64_t *pdpt2 = (uint64_t *)(mem + 0x4000), *pd2 = (uint64_t *)(mem + 0x5000);
    pml4[255] = 0x4000 | 7; pdpt2[511] = 0x5000 | 7; pd2[511] = 0x87;
    lstar = 0x7fffffe00000ULL + 0x100800;
    if (!strcmp(lstarEnv, "4k")) {
      // A 4 KiB leaf instead: the page at GPA 0x100000 appears at 0x7ffffffff000, read-only (P|U).
      uint64_t *pt2 = (uint64_t *)(mem + 0x6000);
      pd2[511] = 0x6000 | 7; pt2[511] = 0x100000 | 5;
      lstar = 0x7ffffffff800ULL;
    }
  }
  uint8_t handler[] = {0xe6, 0x10, 0xeb, 0xfe}, user[] = {0x0f, 0x05, 0xeb, 0xfc};
  memcpy(mem + 0x100800, handler, sizeof handler);
  memcpy(mem + 0x300000, user, sizeof user);
  struct { struct kvm_msrs h; struct kvm_msr_entry e[2]; } m = {.h = {.nmsrs = 2}, .e = {{.index = 0xc0000082, .data = lstar}, {.index = 0xc0000081, .data = (0x23ULL << 48) | (0x10ULL << 32)}}};
  ioctl(vcpu, KVM_SET_MSRS, &m);

  struct kvm_sregs s;
  ioctl(vcpu, KVM_GET_SREGS, &s);
  s.cr3 = 0x1000; s.cr4 = (1 << 5) | (1 << 9) | (1 << 10) | (1 << 16); s.cr0 = 0x80050033; s.efer = 0xd01;
  struct kvm_segment code = {.limit = 0xffffffff, .selector = 0x33, .type = 11, .present = 1, .dpl = 3, .s = 1, .l = 1, .g = 1};
  struct kvm_segment data = {.limit = 0xffffffff, .selector = 0x2b, .type = 3, .present = 1, .dpl = 3, .db = 1, .s = 1, .g = 1};
  s.cs = code; s.ss = data; s.ds = s.es = s.fs = s.gs = data;
  if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) die("sregs");
  struct kvm_regs r = {.rip = 0x300000, .rsp = 0x170000, .rflags = 0x202};
  ioctl(vcpu, KVM_SET_REGS, &r);
  if (!strcmp(mode, "fault")) {
    // User code from argv[2] as hex bytes: how does an exception in user mode end?
    const char *hex = argv[2];
    uint8_t code[64]; size_t n = 0;
    for (; hex[2 * n] && hex[2 * n + 1]; n++) sscanf(hex + 2 * n, "%2hhx", &code[n]);
    memcpy(mem + 0x300000, code, n);
    int rc = ioctl(vcpu, KVM_RUN, 0);
    struct kvm_regs g; ioctl(vcpu, KVM_GET_REGS, &g);
    struct kvm_sregs t; ioctl(vcpu, KVM_GET_SREGS, &t);
    struct kvm_vcpu_events ev; ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev);
    if (argc > 3) {
      // Resume after the exception at rip + argv[3] and report how the next run ends.
      g.rip += atoi(argv[3]);
      ioctl(vcpu, KVM_SET_REGS, &g);
      memset(&ev, 0, sizeof ev);
      int rc2 = ioctl(vcpu, KVM_RUN, 0);
      struct kvm_regs h; ioctl(vcpu, KVM_GET_REGS, &h);
      printf("after resume: rc=%d exit=%d rip=%#llx rcx=%#llx\n", rc2, run->exit_reason, h.rip, h.rcx);
    }
    printf("rc=%d exit=%d rip=%#llx rcx=%#llx cr2=%#llx cs=%#x exc(inj=%d nr=%d err=%d has=%d %#x) suberr=%u\n", rc, run->exit_reason, g.rip, g.rcx, t.cr2, t.cs.selector,
           ev.exception.injected, ev.exception.nr, ev.exception.has_error_code, ev.exception.error_code, ev.exception.pending, run->internal.suberror);
    return 0;
  }
  int sync = !strcmp(mode, "sync"), regsOnly = !strcmp(mode, "regs"), outLoop = !strcmp(mode, "out"), userOut = !strcmp(mode, "userout");
  if (userOut) {
    // User-mode `1: out 0x10; jmp 1b`: an exit with no change of PVM mode. KVM reads the I/O bitmap
    // through the guest page tables at TR's base (0, identity-mapped and zero here), so the port is allowed.
    uint8_t loop[] = {0xe6, 0x10, 0xeb, 0xfc};
    memcpy(mem + 0x300000, loop, sizeof loop);
  }
  if (outLoop) {
    // Supervisor `1: out 0x10; jmp 1b`: the plain exit and re-entry cost.
    uint8_t loop[] = {0xe6, 0x10, 0xeb, 0xfc};
    memcpy(mem + 0x100000, loop, sizeof loop);
    s.cs.selector = 0x10; s.cs.dpl = 0; s.ss.selector = 0x18; s.ss.dpl = 0;
    ioctl(vcpu, KVM_SET_SREGS, &s);
    r.rip = 0x100000; r.rflags = 2;
    ioctl(vcpu, KVM_SET_REGS, &r);
  }
  if (sync) run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;

  double start = 0, run_time = 0, set_time = 0;
  for (int i = 0; i <= rounds; i++) {
    if (i == 1) start = now();
    double t0 = now();
    if (ioctl(vcpu, KVM_RUN, 0) < 0) die("run");
    if (i > 0) run_time += now() - t0;
    if (run->exit_reason != KVM_EXIT_IO) { printf("exit %d at round %d\n", run->exit_reason, i); return 1; }
    if (outLoop || userOut) {
    } else if (regsOnly) {
      struct kvm_regs g;
      ioctl(vcpu, KVM_GET_REGS, &g);
      if (i < 3) { ioctl(vcpu, KVM_GET_SREGS, &s); printf("handler: rip=%#llx rcx=%#llx cs=%#x dpl=%d\n", g.rip, g.rcx, s.cs.selector, s.cs.dpl); }
      g.rip = g.rcx; g.rflags = g.r11;
      ioctl(vcpu, KVM_SET_REGS, &g);
    } else if (sync) {
      struct kvm_regs *g = &run->s.regs.regs;
      if (i == 0) printf("handler: rip=%#llx rcx=%#llx cs=%#x dpl=%d\n", g->rip, g->rcx, run->s.regs.sregs.cs.selector, run->s.regs.sregs.cs.dpl);
      g->rip = g->rcx; g->rflags = g->r11;
      run->s.regs.sregs.cs = code; run->s.regs.sregs.ss = data;
      run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    } else {
      struct kvm_regs g;
      ioctl(vcpu, KVM_GET_REGS, &g);
      if (i == 0) printf("handler: rip=%#llx rcx=%#llx\n", g.rip, g.rcx);
      g.rip = g.rcx; g.rflags = g.r11;
      ioctl(vcpu, KVM_GET_SREGS, &s);
      s.cs = code; s.ss = data;
      double t1 = now();
      if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) die("sregs");
      set_time += now() - t1;
      ioctl(vcpu, KVM_SET_REGS, &g);
    }
  }
  printf("%s: %.2f us per round trip (KVM_RUN %.2f, KVM_SET_SREGS %.2f)\n", mode, (now() - start) / rounds, run_time / rounds, set_time / rounds);
  return 0;
}
