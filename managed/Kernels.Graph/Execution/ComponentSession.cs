using Kernels.Core;
using Kernels.Graph.Execution.OpenCL;
using Kernels.OpenCL;
using Kernels.OpenCL.Runtime;

namespace Kernels.Graph.Execution;

/// <summary>
/// A network planned on the component the user asked for, or on the CPU when that OpenCL device cannot run it and
/// was not demanded (<see cref="Component.Required"/>): then <see cref="FallbackReason"/> says why in one line.
/// Exactly one of <see cref="Cpu"/> and <see cref="Device"/> is set.
/// </summary>
public sealed class ComponentSession : IDisposable
{
    private ComponentSession(Component requested, InferenceSession? cpu, DeviceSession? device, string? fallbackReason)
    {
        Requested = requested;
        Cpu = cpu;
        Device = device;
        FallbackReason = fallbackReason;
    }

    /// <summary>The component the caller asked for.</summary>
    public Component Requested { get; }

    /// <summary>The CPU session, when the network runs on the CPU (asked for, or fallen back to).</summary>
    public InferenceSession? Cpu { get; }

    /// <summary>The OpenCL session, when the network runs on the device.</summary>
    public DeviceSession? Device { get; }

    /// <summary>Why an OpenCL request runs on the CPU instead (one line naming the device, node or kernel); null otherwise.</summary>
    public string? FallbackReason { get; }

    /// <summary>Where it runs: "cpu" or "opencl:N (device name)".</summary>
    public string RunsOn => Device is null ? "cpu" : $"opencl:{Requested.Device} ({Device.Device.Name})";

    public string Name => Device?.Name ?? Cpu!.Name;

    public IReadOnlyList<TensorShape> InputShapes => Device?.InputShapes ?? Cpu!.InputShapes;

    public IReadOnlyList<TensorShape> OutputShapes => Device?.OutputShapes ?? Cpu!.OutputShapes;

    public IReadOnlyList<string> InputNames => Device?.InputNames ?? Cpu!.InputNames;

    public IReadOnlyList<string> OutputNames => Device?.OutputNames ?? Cpu!.OutputNames;

    public int LayerCount => Device?.LayerCount ?? Cpu!.LayerCount;

    public TimeSpan PlanBuildTime => Device?.PlanBuildTime ?? Cpu!.PlanBuildTime;

    /// <summary>Per-layer mean times: profiling events on the device, wall clock on the CPU; empty unless profiling.</summary>
    public IReadOnlyList<LayerProfile> Profile => Device?.Profile ?? Cpu!.Profile;

    /// <summary>
    /// Plans <paramref name="graph"/> on <paramref name="component"/>. For an OpenCL component the plan is followed by
    /// one run on zeros, so errors the driver reports only at the first launch (a lazily compiled kernel,
    /// CL_OUT_OF_RESOURCES) are met here too. Any OpenCL failure (no library, no platform, no such device, a build,
    /// allocation or launch error) or a node without a device kernel then falls back to the CPU with
    /// <paramref name="cpuOptions"/>, unless the component is <see cref="Component.Required"/>: then it is thrown.
    /// </summary>
    /// <exception cref="OpenCLException">A demanded device failed (device and kernel named).</exception>
    /// <exception cref="NotSupportedException">A demanded device has no kernel for a node (named).</exception>
    /// <exception cref="InvalidOperationException">A demanded device does not exist or OpenCL is unavailable (why is stated).</exception>
    public static ComponentSession Create(NetworkGraph graph, Component component, InferenceOptions cpuOptions, DeviceSessionOptions? deviceOptions = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(cpuOptions);
        if (component.Kind == ComponentKind.Cpu)
        {
            return new ComponentSession(component, InferenceSession.Create(graph, cpuOptions), null, null);
        }

        try
        {
            return new ComponentSession(component, null, CreateOnDevice(graph, component.Device, deviceOptions), null);
        }
        catch (Exception e) when (!component.Required && IsDeviceFailure(e))
        {
            string reason = $"{component} cannot run {graph.Name}: {e.Message.Split('\n')[0].TrimEnd()}";
            return new ComponentSession(component, InferenceSession.Create(graph, cpuOptions), null, reason);
        }
    }

    /// <summary>
    /// Plans <paramref name="graph"/> on OpenCL device <paramref name="deviceIndex"/> and runs it once on zeros, so errors
    /// the driver reports only at a kernel's first launch (a lazily compiled kernel, CL_OUT_OF_RESOURCES) are met here,
    /// where a caller can still choose the CPU (<see cref="IsDeviceFailure"/> tells which exceptions mean that).
    /// </summary>
    /// <exception cref="InvalidOperationException">OpenCL is unavailable or has no such device (the reason is stated).</exception>
    /// <exception cref="NotSupportedException">A node without a device kernel (named).</exception>
    /// <exception cref="OpenCLException">A build, allocation or launch failed (device and kernel named).</exception>
    public static DeviceSession CreateOnDevice(NetworkGraph graph, int deviceIndex, DeviceSessionOptions? deviceOptions = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        DeviceSession session = DeviceSession.Create(graph, FindDevice(deviceIndex), deviceOptions);
        try
        {
            var inputs = session.InputShapes.Select(s => (ReadOnlyMemory<float>)new float[s.ElementCount]).ToArray();
            var outputs = session.OutputShapes.Select(s => (Memory<float>)new float[s.ElementCount]).ToArray();
            session.Run(inputs, outputs);
            session.ResetProfile();
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> from <see cref="CreateOnDevice"/> means "this device cannot run this network" (OpenCL
    /// missing or failing, a node without a device kernel, a layer a device operator rejects), so the CPU may run it.
    /// </summary>
    public static bool IsDeviceFailure(Exception e) =>
        e is OpenCLException or NotSupportedException or DllNotFoundException or InvalidOperationException or ArgumentException;

    /// <summary>Runs a network of one input and one output.</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        if (Device is not null)
        {
            Device.Run(input, output);
        }
        else
        {
            Cpu!.Run(input, output);
        }
    }

    /// <summary>Runs the network on all its inputs into all its outputs.</summary>
    public void Run(ReadOnlySpan<ReadOnlyMemory<float>> inputs, ReadOnlySpan<Memory<float>> outputs)
    {
        if (Device is not null)
        {
            Device.Run(inputs, outputs);
        }
        else
        {
            Cpu!.Run(inputs, outputs);
        }
    }

    /// <summary>Clears the accumulated profile.</summary>
    public void ResetProfile()
    {
        Device?.ResetProfile();
        Cpu?.ResetProfile();
    }

    public void Dispose()
    {
        Device?.Dispose();
        Cpu?.Dispose();
    }

    /// <summary>OpenCL device <paramref name="index"/>, or why there is none.</summary>
    /// <exception cref="InvalidOperationException">OpenCL is unavailable or has fewer devices (the reason and the devices are stated).</exception>
    public static OpenCLDevice FindDevice(int index)
    {
        OpenCLDiscovery discovery = OpenCLDiscovery.Current;
        if (!discovery.IsAvailable)
        {
            throw new InvalidOperationException($"no OpenCL device: {discovery.UnavailableReason?.Split('\n')[0]}");
        }

        if (index < 0 || index >= discovery.Devices.Count)
        {
            throw new InvalidOperationException(
                $"no OpenCL device {index}; this machine has {string.Join(", ", discovery.Devices.Select(d => $"opencl:{d.Index} {d.Name}"))}");
        }

        return discovery.Devices[index];
    }
}
