namespace AiRbac;

/// <summary>An immutable, thread-safe compiled policy that answers authorization requests.</summary>
public sealed partial class CompiledPolicy
{
}
