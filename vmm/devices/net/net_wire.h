#pragma once
// linux/virtio_net.h for C++: its control-queue header has a member named
// `class`, a C++ keyword. The control queue is not used here, so the member
// is renamed while the header is read; its own includes come first so that
// nothing else sees the rename.

#include <linux/if_ether.h>
#include <linux/types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_types.h>

#define class class_
#include <linux/virtio_net.h>
#undef class
