// Copies between NHWC tensors of different pixel strides, float32 or half storage: a producer that cannot write with an
// output pixel stride writes a dense tensor, and this puts it into its channel slice of a concat output
// (and the reverse, a slice out to a dense tensor). 4 channels per work-item as one float4; no local memory.
//
// Pixel p's C channels go from src + src_offset + p·src_stride to dst + dst_offset + p·dst_stride.
// NDRange: x = channel block, y = pixel; rounded up, so items past the end return.
// In half storage (precision.h) the values go through float unchanged (every half is a float).

#include "precision.h"

__kernel void copy_channels_nhwc_c4(
    __global const DATA_T* src,
    __global DATA_T* dst,
    int C, int pixels, int src_stride, int src_offset, int dst_stride, int dst_offset, int blocks)
{
    const int cb = (int)get_global_id(0);
    const int p = (int)get_global_id(1);
    if (cb >= blocks || p >= pixels)
    {
        return;
    }

    const int c0 = cb * 4;
    const __global DATA_T* s = src + src_offset + (size_t)p * src_stride + c0;
    __global DATA_T* d = dst + dst_offset + (size_t)p * dst_stride + c0;
    if (c0 + 4 <= C)
    {
        STOREF4(LOADF4(0, s), 0, d);
    }
    else
    {
        for (int c = 0; c < C - c0; c++)
        {
            STOREF1(LOADF1(c, s), c, d);
        }
    }
}
