// Element-wise operations on float32 tensors with a fused activation.
// Mali style: each work-item handles 8 contiguous floats with vector loads and stores (one 128-bit
// load pair per operand); the global size is rounded up to the local size, so items past the end return.

// Activation codes, as Kernels.Core.Activation: 0 none, 1 ReLU, 2 ReLU6, 3 leaky ReLU (slope).
inline float8 activate8(float8 v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, (float8)0.0f);
        case 2: return clamp(v, (float8)0.0f, (float8)6.0f);
        case 3: return select(v, v * slope, v < (float8)0.0f);
        default: return v;
    }
}

inline float activate1(float v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, 0.0f);
        case 2: return clamp(v, 0.0f, 6.0f);
        case 3: return v < 0.0f ? v * slope : v;
        default: return v;
    }
}

// out[i] = act(a[i] + b[i]) for i < n. out may be a or b (in place).
__kernel void add_f32_x8(__global const float* a, __global const float* b, __global float* out, int n, int act, float slope)
{
    const int i = (int)get_global_id(0) * 8;
    if (i >= n)
    {
        return;
    }

    if (i + 8 <= n)
    {
        float8 v = vload8(0, a + i) + vload8(0, b + i);
        vstore8(activate8(v, act, slope), 0, out + i);
    }
    else
    {
        for (int j = i; j < n; j++)
        {
            out[j] = activate1(a[j] + b[j], act, slope);
        }
    }
}
