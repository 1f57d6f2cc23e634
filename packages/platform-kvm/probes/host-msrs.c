// Probe: what this host's /dev/kvm says about itself before any guest runs.
// Prints capabilities, the MSR index lists, the hypervisor CPUID leaves of
// KVM_GET_SUPPORTED_CPUID, and which MSRs in 0x4b564d00-0x4b564dff a fresh
// vCPU lets the host read (KVM_GET_MSRS) and write back (KVM_SET_MSRS).
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int one_msr(int vcpu, unsigned long req, unsigned index, unsigned long long *value) {
  struct { struct kvm_msrs h; struct kvm_msr_entry e; } m;
  memset(&m, 0, sizeof m);
  m.h.nmsrs = 1;
  m.e.index = index;
  m.e.data = *value;
  int r = ioctl(vcpu, req, &m);
  *value = m.e.data;
  return r;
}

int main(void) {
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { perror("open /dev/kvm"); return 1; }
  printf("api %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
  struct { const char *name; int cap; } caps[] = {
    {"SYNC_REGS", KVM_CAP_SYNC_REGS}, {"IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT},
    {"NR_VCPUS", KVM_CAP_NR_VCPUS}, {"USER_MEMORY", KVM_CAP_USER_MEMORY},
    {"SET_GUEST_DEBUG", KVM_CAP_SET_GUEST_DEBUG}, {"XSAVE", KVM_CAP_XSAVE},
    {"XSAVE2", KVM_CAP_XSAVE2}, {"VCPU_MMAP", 0}, {"EXT_CPUID", KVM_CAP_EXT_CPUID},
    {"TSC_DEADLINE", KVM_CAP_TSC_DEADLINE_TIMER}, {"IRQCHIP", KVM_CAP_IRQCHIP},
    {"SPLIT_IRQCHIP", KVM_CAP_SPLIT_IRQCHIP}, {"X86_USER_SPACE_MSR", KVM_CAP_X86_USER_SPACE_MSR},
    {"GET_MSR_FEATURES", KVM_CAP_GET_MSR_FEATURES}, {"READONLY_MEM", KVM_CAP_READONLY_MEM},
  };
  for (unsigned i = 0; i < sizeof caps / sizeof caps[0]; i++)
    if (caps[i].cap) printf("cap %s = %d\n", caps[i].name, ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap));
  printf("vcpu mmap size %d\n", ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));

  struct kvm_msr_list *list = calloc(1, sizeof *list + 4096 * 4);
  list->nmsrs = 4096;
  if (ioctl(kvm, KVM_GET_MSR_INDEX_LIST, list) == 0) {
    printf("msr index list (%u):", list->nmsrs);
    for (unsigned i = 0; i < list->nmsrs; i++)
      if ((list->indices[i] >> 16) == 0x4b56 || (list->indices[i] >> 16) == 0x4b4d) printf(" %#x", list->indices[i]);
    printf("\n");
  }

  struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + 256 * sizeof(struct kvm_cpuid_entry2));
  cpuid->nent = 256;
  if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
    for (unsigned i = 0; i < cpuid->nent; i++) {
      struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
      if (e->function >= 0x40000000 && e->function < 0x50000000)
        printf("cpuid %#x.%u: %#x %#x %#x %#x\n", e->function, e->index, e->eax, e->ebx, e->ecx, e->edx);
    }
    printf("cpuid entries %u\n", cpuid->nent);
  } else perror("KVM_GET_SUPPORTED_CPUID");

  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) { perror("KVM_CREATE_VM"); return 1; }
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) { perror("KVM_CREATE_VCPU"); return 1; }
  ioctl(vcpu, KVM_SET_CPUID2, cpuid);
  for (unsigned index = 0x4b564d00; index < 0x4b564e00; index++) {
    unsigned long long v = 0;
    int r = one_msr(vcpu, KVM_GET_MSRS, index, &v);
    if (r != 1) continue;
    unsigned long long w = v;
    int s = one_msr(vcpu, KVM_SET_MSRS, index, &w);
    printf("msr %#x = %#llx (set back: %d)\n", index, v, s);
  }
  return 0;
}
