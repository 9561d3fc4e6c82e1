namespace Kernels.Cpu.Arm;

/// <summary>
/// Marks an AdvSimd kernel for the arm64 codegen check (tests/arm64-codegen): the check compiles
/// the method with the x64-hosted arm64 JIT and fails unless the listing contains every expected
/// instruction pattern (an extended regular expression matched at the start of an instruction line,
/// mnemonic and operands, e.g. <c>fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.s\[</c> for fmla by element) and no
/// <c>bl</c>/<c>blr</c> call. Every AdvSimd kernel carries this attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class Arm64CodegenAttribute : Attribute
{
    /// <summary>Creates the attribute with the instruction patterns the listing must contain.</summary>
    public Arm64CodegenAttribute(params string[] expectedInstructions)
    {
        ExpectedInstructions = expectedInstructions;
    }

    /// <summary>Regular expressions, each of which must match at least one instruction line of the listing.</summary>
    public IReadOnlyList<string> ExpectedInstructions { get; }

    /// <summary>
    /// Set for dot-product kernels: with <c>DOTNET_EnableArm64Dp=1</c> the listing must also contain <c>sdot</c>/<c>udot</c>;
    /// with <c>DOTNET_EnableArm64Dp=0</c> (the shim's emulation) only <see cref="ExpectedInstructions"/> and the no-call rule apply.
    /// </summary>
    public bool RequiresDotProduct { get; init; }
}
