// Element-wise operations on float32 or half-storage tensors (precision.h) with a fused activation.
// Mali style: each work-item handles 8 contiguous floats with vector loads and stores (one 128-bit
// load pair per operand); the global size is rounded up to the local size, so items past the end return.

#include "precision.h"

inline ACC8_T activate8(ACC8_T v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, (ACC8_T)(0));
        case 2: return clamp(v, (ACC8_T)(0), (ACC8_T)(6));
        case 3: return select(v, v * (ACC_T)slope, v < (ACC8_T)(0));
        default: return v;
    }
}

inline ACC_T activate1(ACC_T v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, (ACC_T)(0));
        case 2: return clamp(v, (ACC_T)(0), (ACC_T)(6));
        case 3: return v < (ACC_T)(0) ? v * (ACC_T)slope : v;
        default: return v;
    }
}



// out[i] = act(a[i] + b[i]) for i < n. out may be a or b (in place).
__kernel void add_f32_x8(__global const DATA_T* a, __global const DATA_T* b, __global DATA_T* out, int n, int act, float slope)
{
    const int i = (int)get_global_id(0) * 8;
    if (i >= n)
    {
        return;
    }

    if (i + 8 <= n)
    {
        ACC8_T v = LOAD8(0, a + i) + LOAD8(0, b + i);
        STORE8(activate8(v, act, slope), 0, out + i);
    }
    else
    {
        for (int j = i; j < n; j++)
        {
            STORE1(activate1(LOAD1(j, a) + LOAD1(j, b), act, slope), j, out);
        }
    }
}
