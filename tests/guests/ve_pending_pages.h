// Where the ve_pending guest's test leaves two private pages unaccepted (carved out of
// low RAM the layout does not use): the guest accepts the first and uses it, then reads
// the second without accepting it. Shared by the guest and the host test.
#pragma once

#define TDSIM_VE_PENDING_ACCEPTED_GPA 0x1f00000ull
#define TDSIM_VE_PENDING_TOUCHED_GPA 0x1f01000ull
