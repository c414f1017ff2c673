// Loops that the compiler vectorises, built for AVX-512, AVX2 and baseline x86-64 and picked at
// load time: tabula ships one binary for every x86-64 CPU, and a loop built only for the
// baseline runs at SSE2 width.
//
// A clone must give the bits the baseline build gives: files with cloned floating-point
// arithmetic beyond single operations are compiled with -ffp-contract=off (CMakeLists.txt), as
// the AVX-512 clone would otherwise fuse multiply-adds that the others round twice.
#pragma once

#if defined(__x86_64__) && !defined(__clang__)
#define TABULA_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TABULA_VECTOR_CLONES
#endif
