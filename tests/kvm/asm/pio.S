#include "layout.inc"
	.text
	.code32
start:
	mov $0x42, %al
	out %al, $0x80
	hlt
#include "reset_vector.inc"
