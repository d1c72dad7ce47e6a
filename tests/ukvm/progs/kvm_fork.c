/* The kselftest harness's shape: /dev/kvm opened (and probed) in the parent, one child
 * forked per test, the VM created in the child. Written against the uAPI only.
 * Exit 0 when the child and then the parent each created a TD. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define X86_TDX_VM 5
#define CAP_VM_TYPES 235

static int create_td(int kvm) {
  int vm = ioctl(kvm, KVM_CREATE_VM, X86_TDX_VM);
  if (vm < 0) return 0;
  int ok = ioctl(vm, KVM_CHECK_EXTENSION, CAP_VM_TYPES) == (1 << X86_TDX_VM);
  close(vm);
  return ok;
}

int main(void) {
  int kvm = open("/dev/kvm", O_RDWR);
  if (kvm < 0) {
    printf("SKIP: /dev/kvm\n");
    return 4;
  }
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) _exit(create_td(kvm) ? 0 : 1);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf("FAIL: the child could not create a TD\n");
    return 1;
  }
  if (!create_td(kvm)) {
    printf("FAIL: the parent could not create a TD after the child\n");
    return 1;
  }
  printf("PASS: kvm_fork\n");
  return 0;
}
