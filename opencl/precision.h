// Storage and arithmetic types of the floating-point kernels, chosen by build options (the host's DevicePrecision):
//
//   (no option)                                   float storage, float arithmetic
//   -DKERNELS_HALF_STORAGE                        half storage, 2 bytes a value, through vload_half/vstore_half (core
//                                                 OpenCL 1.2, no extension needed), float arithmetic
//   -DKERNELS_HALF_STORAGE -DKERNELS_HALF_ARITH   and, where the compiler also defines cl_khr_fp16, half arithmetic in
//                                                 half vectors; without the extension the same options fall back to
//                                                 float arithmetic. The host adds KERNELS_HALF_ARITH only for devices
//                                                 that report cl_khr_fp16.
//
// Kernels name their buffers DATA_T and load and store through the macros below: the ACC_* family gives the arithmetic
// type (half where half arithmetic is on, float otherwise; the convolutions, fully connected and add use it), the F*
// family always float (reductions that must not run in half: pooling sums, softmax, LRN, the Winograd transforms).
// Stores round to nearest even (vstore_half_rte), as System.Half does on the host.
//
// The file is included by the .cl sources; ProgramSources expands the include from the embedded copy, so the driver
// never needs an include path.

#ifndef KERNELS_PRECISION_H
#define KERNELS_PRECISION_H

#if defined(KERNELS_HALF_STORAGE)

#define DATA_T half
#define LOADF1(i, p) vload_half((i), (p))
#define LOADF4(i, p) vload_half4((i), (p))
#define LOADF8(i, p) vload_half8((i), (p))
#define STOREF1(v, i, p) vstore_half_rte((v), (i), (p))
#define STOREF4(v, i, p) vstore_half4_rte((v), (i), (p))
#define STOREF8(v, i, p) vstore_half8_rte((v), (i), (p))

#if defined(KERNELS_HALF_ARITH) && defined(cl_khr_fp16)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define KERNELS_HALF_ARITHMETIC 1
#define ACC_T half
#define ACC4_T half4
#define ACC8_T half8
#define LOAD1(i, p) ((p)[(i)])
#define LOAD4(i, p) vload4((i), (p))
#define LOAD8(i, p) vload8((i), (p))
#define STORE1(v, i, p) ((p)[(i)] = (v))
#define STORE4(v, i, p) vstore4((v), (i), (p))
#define STORE8(v, i, p) vstore8((v), (i), (p))
#else
#define ACC_T float
#define ACC4_T float4
#define ACC8_T float8
#define LOAD1(i, p) LOADF1((i), (p))
#define LOAD4(i, p) LOADF4((i), (p))
#define LOAD8(i, p) LOADF8((i), (p))
#define STORE1(v, i, p) STOREF1((v), (i), (p))
#define STORE4(v, i, p) STOREF4((v), (i), (p))
#define STORE8(v, i, p) STOREF8((v), (i), (p))
#endif

#else

#define DATA_T float
#define LOADF1(i, p) ((p)[(i)])
#define LOADF4(i, p) vload4((i), (p))
#define LOADF8(i, p) vload8((i), (p))
#define STOREF1(v, i, p) ((p)[(i)] = (v))
#define STOREF4(v, i, p) vstore4((v), (i), (p))
#define STOREF8(v, i, p) vstore8((v), (i), (p))
#define ACC_T float
#define ACC4_T float4
#define ACC8_T float8
#define LOAD1(i, p) LOADF1((i), (p))
#define LOAD4(i, p) LOADF4((i), (p))
#define LOAD8(i, p) LOADF8((i), (p))
#define STORE1(v, i, p) STOREF1((v), (i), (p))
#define STORE4(v, i, p) STOREF4((v), (i), (p))
#define STORE8(v, i, p) STOREF8((v), (i), (p))

#endif

// Activation codes, as Kernels.Core.Activation: 0 none, 1 ReLU, 2 ReLU6, 3 leaky ReLU (slope).
inline ACC4_T activate4(ACC4_T v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, (ACC4_T)(0));
        case 2: return clamp(v, (ACC4_T)(0), (ACC4_T)(6));
        case 3: return select(v, v * (ACC_T)slope, v < (ACC4_T)(0));
        default: return v;
    }
}

// activate4 in float whatever the arithmetic.
inline float4 activate_f4(float4 v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, (float4)(0.0f));
        case 2: return clamp(v, (float4)(0.0f), (float4)(6.0f));
        case 3: return select(v, v * slope, v < (float4)(0.0f));
        default: return v;
    }
}

// The first count lanes (1..4) of v to out; never past them.
inline void store_acc4(__global DATA_T* out, ACC4_T v, int count)
{
    if (count >= 4)
    {
        STORE4(v, 0, out);
    }
    else
    {
        STORE1(v.s0, 0, out);
        if (count > 1) STORE1(v.s1, 1, out);
        if (count > 2) STORE1(v.s2, 2, out);
    }
}

// count lanes (1..4) from p, zeros in the others; never reads past them.
inline ACC4_T load_acc4(const __global DATA_T* p, int count)
{
    if (count >= 4)
    {
        return LOAD4(0, p);
    }

    return (ACC4_T)(LOAD1(0, p), count > 1 ? LOAD1(1, p) : (ACC_T)(0), count > 2 ? LOAD1(2, p) : (ACC_T)(0), (ACC_T)(0));
}

// As store_acc4 and load_acc4, in float whatever the arithmetic.
inline void store_f4(__global DATA_T* out, float4 v, int count)
{
    if (count >= 4)
    {
        STOREF4(v, 0, out);
    }
    else
    {
        STOREF1(v.s0, 0, out);
        if (count > 1) STOREF1(v.s1, 1, out);
        if (count > 2) STOREF1(v.s2, 2, out);
    }
}

inline float4 load_f4(const __global DATA_T* p, int count, float fill)
{
    if (count >= 4)
    {
        return LOADF4(0, p);
    }

    return (float4)(LOADF1(0, p), count > 1 ? LOADF1(1, p) : fill, count > 2 ? LOADF1(2, p) : fill, fill);
}

#endif
