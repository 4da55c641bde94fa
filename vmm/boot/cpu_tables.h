#pragma once
// Kept for code that included the GDT and page tables together before they
// got a header each; new code includes gdt.h or page_tables.h.

#include "vmm/boot/gdt.h"
#include "vmm/boot/page_tables.h"
