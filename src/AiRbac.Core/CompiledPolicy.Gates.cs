using System.Buffers;
using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// Gated roles (docs/policy-language.md, section 11): a role with conditions grants only for a request whose context
/// satisfies them. Step 3 computes the effective roles as in version 1 (the table of that set, its denies and its
/// separation-of-duties answer apply whatever the context), and, when the set holds a gated role, which of its roles are
/// <em>active</em>: reached from the subject's bindings through roles whose gates hold. Step 8 judges the grants of active
/// roles only; when none allows, an inactive role that would have allowed explains the denial (<c>condition_failed</c>).
/// </summary>
public sealed partial class CompiledPolicy
{
    // Per role of the effective set (by position in the table's sorted roles): what the walks found.
    internal const byte GateActive = 1;     // reached through roles whose gates hold
    private const byte GateKnown = 4;      // the role's gate has been evaluated for this request
    private const byte GateHolds = 8;      // and it holds

    private const int MaxContextAttributes = Tuning.Language.MaxContextAttributes;
    private const int MaxContextValueLength = Tuning.Language.MaxContextValueLength;

    private readonly NameTable contextKeys;
    private readonly ContextValueType[] contextTypes;

    // Whether any role is gated: only then does step 3 record the roles its bindings name (the walks start there).
    private readonly bool hasGates;

    /// <summary>The text of condition <paramref name="index"/> of role <paramref name="role"/> (for <see cref="Decision.Condition"/>).</summary>
    internal string? ConditionText(int role, int index)
        => (uint)role < (uint)roles.Length && (uint)index < (uint)roles[role].Conditions.Length ? roles[role].Conditions[index].Text : null;

    /// <summary>
    /// Step 2's part of the request context: at most <see cref="MaxContextAttributes"/> pairs, each with a key, a defined
    /// type and, for a string, a value of at most <see cref="MaxContextValueLength"/> characters; a key the policy declares
    /// appears once, with its declared type. Keys the policy does not declare are ignored.
    /// </summary>
    private bool IsValidContext(RequestContext context)
    {
        var attributes = context.AttributeSpan;
        if (attributes.Length > MaxContextAttributes)
        {
            return false;
        }

        ulong seen = 0;
        foreach (ref readonly var attribute in attributes)
        {
            if (attribute.Key is null || (uint)attribute.Type > (uint)ContextValueType.Integer
                || (attribute.Type == ContextValueType.String && (attribute.StringValue is null || attribute.StringValue.Length > MaxContextValueLength)))
            {
                return false;
            }

            int key = contextTypes.Length == 0 ? -1 : contextKeys.Find(attribute.Key);
            if (key < 0)
            {
                continue;
            }

            ulong bit = 1UL << key;
            if (contextTypes[key] != attribute.Type || (seen & bit) != 0)
            {
                return false;
            }

            seen |= bit;
        }

        return true;
    }

    /// <summary>Whether role <paramref name="role"/>'s gate holds for the request: every condition holds.</summary>
    private bool GateHoldsFor(int role, ref Request request)
    {
        var conditions = roles[role].Conditions;
        if (conditions.Length > 0)
        {
            var attributes = request.Context is { } context ? context.AttributeSpan : default;
            long now = request.Now(timeProvider);
            foreach (var condition in conditions)
            {
                if (!condition.Holds(attributes, now))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>The index of the first condition of <paramref name="role"/> that does not hold for the request, or -1.</summary>
    private int FirstFailingCondition(int role, ref Request request)
    {
        var conditions = roles[role].Conditions;
        var attributes = request.Context is { } context ? context.AttributeSpan : default;
        long now = request.Now(timeProvider);
        for (int i = 0; i < conditions.Length; i++)
        {
            if (!conditions[i].Holds(attributes, now))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Steps 4 to 8 for a subject whose effective set holds a gated role: marks which roles of the set are active
    /// (<see cref="MarkActive"/>), then decides on the set's table with those marks.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision DecideGated(RoleSetTable table, Subject subject, SubjectKind kind, ReadOnlySpan<int> seeds, ref Request request)
    {
        int n = table.Roles.Length;
        byte[]? rentedState = null;
        int[]? rentedStack = null;
        Span<byte> state = n <= StackRoles ? stackalloc byte[StackRoles] : (rentedState = ArrayPool<byte>.Shared.Rent(n));
        Span<int> stack = n <= StackRoles ? stackalloc int[StackRoles] : (rentedStack = ArrayPool<int>.Shared.Rent(n));
        state = state[..n];
        state.Clear();
        MarkActive(table.Roles, kind, seeds, state, stack, ref request);
        RunTable? run = null;
        var decision = DecideOn(table, subject, ref request, ref run, state);
        if (rentedState is not null)
        {
            ArrayPool<byte>.Shared.Return(rentedState);
        }

        if (rentedStack is not null)
        {
            ArrayPool<int>.Shared.Return(rentedStack);
        }

        return decision;
    }

    /// <summary>
    /// Marks <see cref="GateActive"/> on every role of <paramref name="held"/> (the effective set, sorted) reached from the
    /// roles the bindings in effect name (<paramref name="seeds"/>) through roles that admit the subject's kind and whose
    /// gates hold: a role whose gate fails is not active, and the walk does not pass through it.
    /// </summary>
    private void MarkActive(ReadOnlySpan<int> held, SubjectKind kind, ReadOnlySpan<int> seeds, Span<byte> state, Span<int> stack, ref Request request)
    {
        byte kindBit = (byte)(1 << (int)kind);
        int top = 0;
        foreach (int seed in seeds)
        {
            top = Enter(seed, held, kindBit, state, stack, top, ref request);
            while (top > 0)
            {
                foreach (int parent in roles[stack[--top]].Parents)
                {
                    top = Enter(parent, held, kindBit, state, stack, top, ref request);
                }
            }
        }
    }

    /// <summary>Enters <paramref name="role"/> when it admits the kind, is not marked yet and its gate holds: marks it and pushes it.</summary>
    private int Enter(int role, ReadOnlySpan<int> held, byte kindBit, Span<byte> state, Span<int> stack, int top, ref Request request)
    {
        if ((roles[role].KindMask & kindBit) == 0)
        {
            return top;
        }

        int at = held.BinarySearch(role);
        if (at < 0 || (state[at] & GateActive) != 0 || (roles[role].Gated && !Holds(role, at, state, ref request)))
        {
            return top;
        }

        state[at] |= GateActive;
        stack[top] = role;
        return top + 1;
    }

    /// <summary>A gated role's gate, evaluated once per request and remembered in its state.</summary>
    private bool Holds(int role, int at, Span<byte> state, ref Request request)
    {
        if ((state[at] & GateKnown) == 0)
        {
            state[at] |= (byte)(GateKnown | (GateHoldsFor(role, ref request) ? GateHolds : 0));
        }

        return (state[at] & GateHolds) != 0;
    }

    /// <summary>Whether <paramref name="role"/> of the table's set is active (with no gates, every role is).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsActive(int[] held, ReadOnlySpan<byte> gates, int role)
        => gates.IsEmpty || (gates[Array.BinarySearch(held, role)] & GateActive) != 0;

    /// <summary>
    /// Step 8 denied every active role, but inactive role <paramref name="role"/> would have allowed with grant
    /// <paramref name="rule"/>: the denial is <c>condition_failed</c>, naming the first role of the set (in file order)
    /// whose gate fails and that brings <paramref name="role"/> (itself, or a role inheriting it), and its first failing condition.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision ExplainInactive(int[] held, Subject subject, int role, int rule, ref Request request, Decision fallback)
    {
        var kind = KindOf(subject, Known(subject));
        foreach (int gated in held)
        {
            if (!roles[gated].Gated || GateHoldsFor(gated, ref request) || Array.BinarySearch(ClosureOf(gated, kind), role) < 0)
            {
                continue;
            }

            return new Decision(this, DecisionReason.ConditionFailed, gated, rule, request.Tier, detail: FirstFailingCondition(gated, ref request));
        }

        return fallback; // unreachable: a role of the set that is not active is reached only through a role whose gate fails
    }
}
