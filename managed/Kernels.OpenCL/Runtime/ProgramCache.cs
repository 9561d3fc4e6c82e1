using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Kernels.OpenCL.Native;

namespace Kernels.OpenCL.Runtime;

/// <summary>
/// Compiled program binaries on disk, so a second process loads them instead of compiling. An entry is keyed
/// by the device, its driver version, the source's hash and the build options (<see cref="KeyOf"/>); a binary
/// the driver rejects is deleted and the program rebuilt from source.
/// </summary>
public sealed unsafe class ProgramCache
{
    /// <param name="directory">The folder; default &lt;cache&gt;/opencl/programs (see <see cref="CacheDirectory"/>).</param>
    /// <param name="enabled">False: always compile from source and write nothing.</param>
    public ProgramCache(string? directory = null, bool enabled = true)
    {
        Directory = directory ?? Path.Combine(CacheDirectory.Root, "opencl", "programs");
        Enabled = enabled;
    }

    public string Directory { get; }

    public bool Enabled { get; }

    /// <summary>Programs this cache built from source (cold).</summary>
    public int Compiled { get; private set; }

    /// <summary>Programs this cache loaded from a binary (warm).</summary>
    public int Loaded { get; private set; }

    /// <summary>Cached binaries the driver refused (then deleted and rebuilt).</summary>
    public int Rejected { get; private set; }

    /// <summary>The entry's key: SHA-256 over the device key (name, vendor, driver and platform version), the options and the source's SHA-256.</summary>
    public static string KeyOf(OpenCLDevice device, string source, string options)
    {
        string sourceHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)));
        byte[] key = SHA256.HashData(Encoding.UTF8.GetBytes($"{device.Key}\n{options}\n{sourceHash}"));
        return Convert.ToHexStringLower(key);
    }

    /// <summary>The file an entry lives in.</summary>
    public string PathOf(OpenCLDevice device, string name, string source, string options) =>
        Path.Combine(Directory, $"{name}-{KeyOf(device, source, options)[..32]}.bin");

    /// <summary>Builds <paramref name="source"/> for the context's device: from the cached binary when there is a valid one, else from source (then caches the binary).</summary>
    /// <exception cref="OpenCLException">The build failed; the message has the build log and names the program and device.</exception>
    public ClProgram Build(OpenCLContext context, string name, string source, string options)
    {
        ArgumentNullException.ThrowIfNull(context);
        var clock = Stopwatch.StartNew();
        string? file = Enabled ? PathOf(context.Device, name, source, options) : null;
        if (file is not null && File.Exists(file))
        {
            ClProgramHandle? fromBinary = TryLoadBinary(context, file, options);
            if (fromBinary is not null)
            {
                Loaded++;
                return new ClProgram(context, fromBinary, name, options, fromCache: true, clock.Elapsed);
            }

            Rejected++;
            TryDelete(file);
        }

        ClProgramHandle program = CompileSource(context, name, source, options);
        Compiled++;
        if (file is not null)
        {
            Store(context, program, file);
        }

        return new ClProgram(context, program, name, options, fromCache: false, clock.Elapsed);
    }

    private static ClProgramHandle CompileSource(OpenCLContext context, string name, string source, string options)
    {
        byte[] text = Encoding.UTF8.GetBytes(source);
        int error;
        ClProgramHandle program;
        fixed (byte* t = text)
        {
            byte* strings = t;
            nuint length = (nuint)text.Length;
            program = ClApi.clCreateProgramWithSource(context.Handle, 1, &strings, &length, &error);
        }

        if (error != 0)
        {
            program.Dispose();
            throw new OpenCLException(error, "clCreateProgramWithSource", $"program {name} on {context.Device.Name}");
        }

        int rc = BuildProgram(context, program, options);
        if (rc != 0)
        {
            string log = BuildLog(context, program);
            program.Dispose();
            throw new OpenCLException(rc, "clBuildProgram", $"program {name} with options '{options}' on {context.Device.Name}", log);
        }

        return program;
    }

    private static ClProgramHandle? TryLoadBinary(OpenCLContext context, string file, string options)
    {
        byte[] binary;
        try
        {
            binary = File.ReadAllBytes(file);
        }
        catch (IOException)
        {
            return null;
        }

        if (binary.Length == 0)
        {
            return null;
        }

        nint device = context.Device.Id;
        int status = 0, error;
        ClProgramHandle program;
        fixed (byte* b = binary)
        {
            byte* binaries = b;
            nuint length = (nuint)binary.Length;
            program = ClApi.clCreateProgramWithBinary(context.Handle, 1, &device, &length, &binaries, &status, &error);
        }

        if (error != 0 || status != 0)
        {
            program.Dispose();
            return null;
        }

        // A binary still needs clBuildProgram (for PoCL it finishes code generation; for Mali drivers it is quick).
        if (BuildProgram(context, program, options) != 0)
        {
            program.Dispose();
            return null;
        }

        return program;
    }

    private static int BuildProgram(OpenCLContext context, ClProgramHandle program, string options)
    {
        nint device = context.Device.Id;
        byte[] opts = Encoding.ASCII.GetBytes(options + "\0");
        fixed (byte* o = opts)
        {
            return ClApi.clBuildProgram(program, 1, &device, o, 0, 0);
        }
    }

    private static string BuildLog(OpenCLContext context, ClProgramHandle program)
    {
        nuint size;
        if (ClApi.clGetProgramBuildInfo(program, context.Device.Id, ClApi.ProgramBuildLog, 0, null, &size) != 0 || size == 0)
        {
            return "(no build log)";
        }

        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
        {
            if (ClApi.clGetProgramBuildInfo(program, context.Device.Id, ClApi.ProgramBuildLog, size, b, null) != 0)
            {
                return "(no build log)";
            }
        }

        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    private void Store(OpenCLContext context, ClProgramHandle program, string file)
    {
        nuint size;
        ClCheck.Ok(ClApi.clGetProgramInfo(program, ClApi.ProgramBinarySizes, (nuint)sizeof(nuint), &size, null), "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)", context.Device.Name);
        if (size == 0)
        {
            return;
        }

        var binary = new byte[(int)size];
        fixed (byte* b = binary)
        {
            byte* pointers = b;
            ClCheck.Ok(ClApi.clGetProgramInfo(program, ClApi.ProgramBinaries, (nuint)sizeof(nint), &pointers, null), "clGetProgramInfo(CL_PROGRAM_BINARIES)", context.Device.Name);
        }

        // Written under a temporary name and renamed, so a concurrent process never reads half a binary.
        System.IO.Directory.CreateDirectory(Directory);
        string temp = $"{file}.{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temp, binary);
        File.Move(temp, file, overwrite: true);
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
            // Another process may have replaced it already; the rebuild below rewrites it anyway.
        }
    }
}
