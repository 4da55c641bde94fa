#pragma once
// The hostile-driver half of the vsock attack rig test (guest_attack.c).

// Drives the vsock device's registers directly with malformed rings and a
// credit-ignoring stream, hands the device back to the kernel, then opens
// more streams than the VMM allows. Reports on the console.
void attack_tests(void);
