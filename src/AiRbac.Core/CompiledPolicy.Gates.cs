using System.Buffers;
using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// Gated roles (docs/policy-language.md, sections 11 and 12): a role with conditions grants only for a request whose
/// context satisfies them, and a break-glass role only for a request carrying a valid activation of it by the subject.
/// Step 3 computes the effective roles as in version 1 (the table of that set, its denies and its separation-of-duties
/// answer apply whatever the context), and, when the set holds a gated role, which of its roles are <em>active</em>:
/// reached from the subject's bindings through roles whose gates hold. Step 8 judges the grants of active roles only;
/// when none allows, an inactive role that would have allowed explains the denial (<c>condition_failed</c>,
/// <c>break_glass_not_active</c>). A decision by a role active only through an activated break-glass role is flagged.
/// </summary>
public sealed partial class CompiledPolicy
{
    // Per role of the effective set (by position in the table's sorted roles): what the walks found.
    internal const byte GateActive = 1;     // reached through roles whose gates hold
    private const byte GateActiveWithoutBreakGlass = 2; // and so without any break-glass activation
    private const byte GateKnown = 4;      // the role's gate has been evaluated for this request
    private const byte GateHolds = 8;      // and it holds
    private const byte GateVisited = 16;   // seen by the search for the break-glass role that brings a role
    private const byte GateUngated = 32;   // reached without entering any gated role (an approver's roles, section 13)

    private const int MaxActivations = Tuning.Language.MaxActivations;
    private const int MaxJustificationLength = Tuning.Language.MaxJustificationLength;

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

        var activations = context.ActivationSpan;
        if (activations.Length > MaxActivations || !AreValidApprovals(context))
        {
            return false;
        }

        foreach (ref readonly var activation in activations)
        {
            if (activation.Subject is null || activation.Role is null || activation.Justification is null || activation.Justification.Length > MaxJustificationLength)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether role <paramref name="role"/>'s gate holds for the subject <paramref name="subjectId"/> and the request: every
    /// condition holds, and a break-glass role has a valid activation by that subject.
    /// </summary>
    private bool GateHoldsFor(int role, string subjectId, ref Request request)
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

        return roles[role].BreakGlassTicks == 0 || FindActivation(role, subjectId, ref request) >= 0;
    }

    /// <summary>
    /// The index of the request's first valid activation of break-glass role <paramref name="role"/> by
    /// <paramref name="subjectId"/>, or -1: it names the subject and the role (by name or id), its justification is not
    /// blank, and it started at most the role's <c>max_activation</c> ago, not in the future.
    /// </summary>
    private int FindActivation(int role, string subjectId, ref Request request)
    {
        if (request.Context is not { } context)
        {
            return -1;
        }

        var activations = context.ActivationSpan;
        long max = roles[role].BreakGlassTicks;
        for (int i = 0; i < activations.Length; i++)
        {
            ref readonly var activation = ref activations[i];
            if (!string.Equals(activation.Subject, subjectId, StringComparison.Ordinal) || roleIds.Find(activation.Role) != role
                || IsBlank(activation.Justification))
            {
                continue;
            }

            long now = request.Now(timeProvider);
            long start = activation.Start.UtcTicks;
            if (start <= now && now - start < max)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Whether a justification says nothing a reader can see: empty, or only white space, control characters and format
    /// characters (zero-width spaces and joiners, U+2060, U+FEFF, bidirectional controls). Allocation-free.
    /// </summary>
    internal static bool IsBlank(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsWhiteSpace(c) && !char.IsControl(c) && char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format)
            {
                return false;
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
        MarkActive(table.Roles, kind, seeds, state, stack, subject.Id, ref request);
        var decision = DecideOn(table, subject, ref request, state);
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
    /// gates hold: a role whose gate fails is not active, and the walk does not pass through it. Then marks
    /// <see cref="GateActiveWithoutBreakGlass"/> on the roles reached so without entering any break-glass role: an active
    /// role without that mark is active only through an activation.
    /// </summary>
    private void MarkActive(ReadOnlySpan<int> held, SubjectKind kind, ReadOnlySpan<int> seeds, Span<byte> state, Span<int> stack, string subjectId, ref Request request)
    {
        byte kindBit = (byte)(1 << (int)kind);
        if (Walk(held, kindBit, seeds, state, stack, GateActive, subjectId, ref request))
        {
            Walk(held, kindBit, seeds, state, stack, GateActiveWithoutBreakGlass, subjectId, ref request);
            return;
        }

        for (int i = 0; i < state.Length; i++)
        {
            state[i] |= (state[i] & GateActive) != 0 ? GateActiveWithoutBreakGlass : (byte)0;
        }
    }

    /// <summary>One walk, marking <paramref name="bit"/>; with <see cref="GateActiveWithoutBreakGlass"/>, never entering a break-glass role. True when it entered one.</summary>
    private bool Walk(ReadOnlySpan<int> held, byte kindBit, ReadOnlySpan<int> seeds, Span<byte> state, Span<int> stack, byte bit, string subjectId, ref Request request)
    {
        bool breakGlass = false;
        int top = 0;
        foreach (int seed in seeds)
        {
            top = Enter(seed, held, kindBit, state, stack, top, bit, subjectId, ref breakGlass, ref request);
            while (top > 0)
            {
                foreach (int parent in roles[stack[--top]].Parents)
                {
                    top = Enter(parent, held, kindBit, state, stack, top, bit, subjectId, ref breakGlass, ref request);
                }
            }
        }

        return breakGlass;
    }

    /// <summary>Enters <paramref name="role"/> when it admits the kind, is not marked yet and its gate holds: marks it and pushes it.</summary>
    private int Enter(int role, ReadOnlySpan<int> held, byte kindBit, Span<byte> state, Span<int> stack, int top, byte bit, string subjectId,
        ref bool breakGlass, ref Request request)
    {
        if ((roles[role].KindMask & kindBit) == 0)
        {
            return top;
        }

        int at = held.BinarySearch(role);
        if (at < 0 || (state[at] & bit) != 0)
        {
            return top;
        }

        if (roles[role].Gated)
        {
            if (bit == GateUngated || !Holds(role, at, state, subjectId, ref request) || (roles[role].BreakGlassTicks > 0 && bit == GateActiveWithoutBreakGlass))
            {
                return top;
            }

            breakGlass |= roles[role].BreakGlassTicks > 0;
        }

        state[at] |= bit;
        stack[top] = role;
        return top + 1;
    }

    /// <summary>A gated role's gate, evaluated once per request and remembered in its state.</summary>
    private bool Holds(int role, int at, Span<byte> state, string subjectId, ref Request request)
    {
        if ((state[at] & GateKnown) == 0)
        {
            state[at] |= (byte)(GateKnown | (GateHoldsFor(role, subjectId, ref request) ? GateHolds : 0));
        }

        return (state[at] & GateHolds) != 0;
    }

    /// <summary>Whether <paramref name="role"/> of the table's set is active (with no gates, every role is).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsActive(int[] held, Span<byte> gates, int role)
        => gates.IsEmpty || (gates[Array.BinarySearch(held, role)] & GateActive) != 0;

    /// <summary>
    /// Step 8 denied every active role, but inactive role <paramref name="role"/> would have allowed with grant
    /// <paramref name="rule"/>: the denial names the first role of the set (in file order) whose gate fails and that brings
    /// <paramref name="role"/> (itself, or a role inheriting it): <c>break_glass_not_active</c> when it is a break-glass
    /// role without a valid activation by the subject, else <c>condition_failed</c> with its first failing condition.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision ExplainInactive(int[] held, Subject subject, int role, int rule, ref Request request, Decision fallback)
    {
        var kind = KindOf(subject, Known(subject));
        foreach (int gated in held)
        {
            if (!roles[gated].Gated || GateHoldsFor(gated, subject.Id, ref request) || Array.BinarySearch(ClosureOf(gated, kind), role) < 0)
            {
                continue;
            }

            return roles[gated].BreakGlassTicks > 0 && FindActivation(gated, subject.Id, ref request) < 0
                ? new Decision(this, DecisionReason.BreakGlassNotActive, gated, rule, request.Tier)
                : new Decision(this, DecisionReason.ConditionFailed, gated, rule, request.Tier, detail: FirstFailingCondition(gated, ref request));
        }

        return fallback; // unreachable: a role of the set that is not active is reached only through a role whose gate fails
    }

    /// <summary>
    /// For a decision naming role <paramref name="role"/> of a gated set: when the role is active only through an activated
    /// break-glass role, that role (the first in file order from which <paramref name="role"/> is reached through active
    /// roles) and the activation that made it count, packed (<see cref="Decision.PackBreakGlass"/>); else 0.
    /// </summary>
    private int BreakGlassOf(int[] held, Span<byte> gates, Subject subject, int role, ref Request request)
    {
        int at = Array.BinarySearch(held, role);
        if (gates.IsEmpty || at < 0 || (gates[at] & (GateActive | GateActiveWithoutBreakGlass)) != GateActive)
        {
            return 0;
        }

        byte kindBit = (byte)(1 << (int)KindOf(subject, Known(subject)));
        for (int i = 0; i < held.Length; i++)
        {
            int candidate = held[i];
            if (roles[candidate].BreakGlassTicks == 0 || (gates[i] & GateActive) == 0)
            {
                continue;
            }

            bool reaches = Reaches(candidate, role, held, gates, kindBit);
            for (int k = 0; k < gates.Length; k++)
            {
                gates[k] &= unchecked((byte)~GateVisited);
            }

            if (reaches)
            {
                return Decision.PackBreakGlass(candidate, FindActivation(candidate, subject.Id, ref request));
            }
        }

        return 0; // unreachable: a role active only through an activation is reached from an active break-glass role
    }

    /// <summary>Whether <paramref name="target"/> is <paramref name="from"/> or inherited from it through active roles.</summary>
    private bool Reaches(int from, int target, int[] held, Span<byte> gates, byte kindBit)
    {
        if (from == target)
        {
            return true;
        }

        gates[Array.BinarySearch(held, from)] |= GateVisited;
        foreach (int parent in roles[from].Parents)
        {
            int at = Array.BinarySearch(held, parent);
            if ((roles[parent].KindMask & kindBit) != 0 && at >= 0 && (gates[at] & (GateActive | GateVisited)) == GateActive
                && Reaches(parent, target, held, gates, kindBit))
            {
                return true;
            }
        }

        return false;
    }
}
