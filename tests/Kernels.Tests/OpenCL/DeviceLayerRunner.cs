using Kernels.OpenCL.Runtime;
using Kernels.Tests.Layers;

namespace Kernels.Tests.OpenCL;

/// <summary>Uploads an input, poisons an output buffer with NaN (so a stray store shows), runs a device layer and reads the output back.</summary>
internal static class DeviceLayerRunner
{
    public static float[] Run(OpenCLContext context, float[] input, long outputLength, Action<DeviceBuffer, DeviceBuffer> run)
    {
        using DeviceBuffer dIn = context.CreateBuffer((long)input.Length * sizeof(float));
        using DeviceBuffer dOut = context.CreateBuffer(outputLength * sizeof(float));
        dIn.Write<float>(input);
        dOut.Write<float>(LayerReference.Poisoned(outputLength));
        run(dIn, dOut);
        var output = new float[outputLength];
        dOut.Read<float>(output);
        return output;
    }
}
