using System.Reflection;
using System.Runtime.CompilerServices;
using Kernels.Cpu.Arm;

// Two modes, driven by check.sh:
//   list    (normal x64 run): prints "Type:Method<TAB>pattern;pattern<TAB>dp" for every method marked
//           [Arm64Codegen], and fails if an AdvSimd kernel type carries no marked method.
//   compile (under the arm64 alt-JIT): forces JIT compilation of every marked method so the JIT
//           prints its arm64 listing to stdout; nothing else may be written to stdout.
var assembly = typeof(Arm64CodegenAttribute).Assembly;
var marked = new List<(MethodInfo Method, Arm64CodegenAttribute Attribute)>();
var unmarkedKernels = new List<string>();
foreach (var type in assembly.GetTypes())
{
    var methods = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly);
    bool any = false;
    foreach (var method in methods)
    {
        if (method.GetCustomAttribute<Arm64CodegenAttribute>() is { } attribute)
        {
            marked.Add((method, attribute));
            any = true;
        }
    }

    if (!any && type.Namespace?.Contains("MicroKernels", StringComparison.Ordinal) == true
        && type.Name.Contains("AdvSimd", StringComparison.Ordinal) && methods.Any(static m => m.Name == "Run"))
    {
        unmarkedKernels.Add(type.FullName!);
    }
}

string mode = args.Length > 0 ? args[0] : "list";
if (mode == "list")
{
    if (unmarkedKernels.Count > 0)
    {
        Console.Error.WriteLine($"AdvSimd kernels without [Arm64Codegen]: {string.Join(", ", unmarkedKernels)}");
        return 1;
    }

    foreach (var (method, attribute) in marked.OrderBy(static m => m.Method.DeclaringType!.FullName).ThenBy(static m => m.Method.Name))
    {
        Console.WriteLine($"{method.DeclaringType!.Name}:{method.Name}\t{string.Join(";", attribute.ExpectedInstructions)}\t{(attribute.RequiresDotProduct ? 1 : 0)}");
    }

    return 0;
}

if (mode == "compile")
{
    foreach (var (method, _) in marked)
    {
        RuntimeHelpers.PrepareMethod(method.MethodHandle);
    }

    return 0;
}

Console.Error.WriteLine($"unknown mode '{mode}' (list | compile)");
return 2;
