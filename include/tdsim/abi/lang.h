// One spelling of the ABI for C11 and C++: the ABI headers write each constant, struct
// and compile-time check once through these macros, so C guests see the very values C++
// code does, not a hand-kept copy. In C++ everything lives in namespace tdsim::abi and
// constants are typed `inline constexpr`; in C the same names are global (`kUcallSync`,
// `Ucall`, ...) and constants are enumerators, so they work in array bounds, case labels
// and _Static_assert. Enumerators above INT_MAX are a GCC/clang extension in C11 (only
// -Wpedantic mentions it; C23 allows them). Freestanding: <stdint.h>, <stddef.h> only.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define TDSIM_ABI_BEGIN namespace tdsim::abi {
#define TDSIM_ABI_END }
#define TDSIM_ABI_CONST(type, name, value) inline constexpr type name = (value);
// A fixed underlying type in C++; C11 has none (the values all fit in an int).
#define TDSIM_ABI_ENUM(name, type) enum name : type
#define TDSIM_ABI_STATIC_ASSERT(expr) static_assert(expr, #expr)
#else
#define TDSIM_ABI_BEGIN
#define TDSIM_ABI_END
#define TDSIM_ABI_CONST(type, name, value) enum { name = (value) };
#define TDSIM_ABI_ENUM(name, type) enum name
#define TDSIM_ABI_STATIC_ASSERT(expr) _Static_assert(expr, #expr)
#endif
