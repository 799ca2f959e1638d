using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// Batch decisions: one subject (with its on-behalf-of chain) and one action against many resources, for example the
/// candidates a retriever found. Each item goes through the same decision steps as <see cref="Authorize(Subject, string, in ResourceRequest)"/>
/// (<see cref="DecideRequest"/>, or <see cref="DecideRun"/> and <see cref="AfterActor"/> once the subject's table
/// is known); what does not depend on the item is resolved once per batch.
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>
    /// Decides, for each resource, whether <paramref name="subject"/> may perform <paramref name="action"/> on it:
    /// <c>decisions[i]</c> is exactly what <see cref="Authorize(Subject, string, in ResourceRequest)"/> answers for
    /// <c>resources[i]</c>, reason, role and rule included. Allocates nothing once the subject's role-set table exists.
    /// </summary>
    /// <param name="subject">Who asks (with the subjects it acts on behalf of).</param>
    /// <param name="action">The action, <c>namespace:verb</c>, the same for every item.</param>
    /// <param name="resources">The resources, each with what the caller knows of it (scope, tier, tags, owner).</param>
    /// <param name="decisions">Where the decisions go: as long as <paramref name="resources"/>.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="decisions"/> is not exactly as long as <paramref name="resources"/>. Nothing is decided: every
    /// element of <paramref name="decisions"/> is set to the default decision (a denial) before the exception is thrown.
    /// </exception>
    /// <remarks>
    /// The action is looked up once. When the subject's effective role set depends on neither the request nor the time
    /// (no scoped or expiring binding in effect), steps 1 to 5 and the search for the action's run are done once: before
    /// the first item for a subject that kept its table from an earlier decision, else after the first item that finds
    /// the table; every further item costs only what depends on it (the request's part of step 2, steps 6 to 8 on that
    /// run, and step 9 for the subjects acted for). A subject with scoped or expiring bindings has its effective roles
    /// computed for each item (its set depends on the item's scope and on the clock), by the same code as a single call.
    /// Items are decided in order, each reading the policy's clock as a single call would.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)] // docs/benchmarks.md, "Batch decisions"
    public void AuthorizeMany(Subject subject, string action, ReadOnlySpan<ResourceRequest> resources, Span<Decision> decisions)
    {
        if (decisions.Length != resources.Length)
        {
            decisions.Clear(); // no partial answer: a caller that ignores the exception finds denials only
            ThrowLengthMismatch(decisions.Length, resources.Length);
        }

        if (subject is null)
        {
            decisions.Fill(new Decision(this, DecisionReason.MissingIdentity));
            return;
        }

        int actionId = ActionIdOf(action);
        for (int i = 0; i < resources.Length; i++)
        {
            // Decide keeps the table on the subject only when its set depends on neither the request nor the time; the
            // subject keeps one for each of the last two policies, and a table is used only for the policy it names. (A
            // last item alone costs the same either way, without the per-item loop's setup.)
            if (i < resources.Length - 1 && subject.TableFor(this) is { } table)
            {
                DecideOnTable(table, subject, action, actionId, resources[i..], decisions[i..]);
                return;
            }

            decisions[i] = DecideRequest(subject, action, actionId, in resources[i]);
        }
    }

    [DoesNotReturn]
    private static void ThrowLengthMismatch(int decisions, int resources)
        => throw new ArgumentException(
            $"decisions has {decisions} elements but resources has {resources}; they must be equally long", nameof(decisions));

    /// <summary>
    /// The items of a batch whose subject has a fixed set, with its <paramref name="table"/>: steps 4 and 5 and the
    /// action's run once (<see cref="RunOf"/>), then per item what <see cref="Decide"/> does for a subject that kept its
    /// table: the request's part of step 2 (<see cref="Prepare"/>), steps 6 to 8 (<see cref="DecideRun"/>,
    /// inlined here), and steps 9 and 10 (<see cref="AfterActor"/>). An item equal to the one before it gets that item's
    /// decision when nothing but the item decides (<see cref="Repeatable"/>, <see cref="SameItem"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // docs/benchmarks.md, "Batch decisions"
    private void DecideOnTable(RoleSetTable table, Subject subject, string action, int actionId, ReadOnlySpan<ResourceRequest> resources, Span<Decision> decisions)
    {
        decisions = decisions[..resources.Length];
        var run = RunOf(table, actionId);
        bool after = subject.OnBehalfOf is not null || approvalRules.Length != 0;
        bool repeatable = Repeatable(subject);
        for (int i = 0; i < resources.Length; i++)
        {
            ref readonly var resource = ref resources[i];
            if (repeatable && i > 0 && SameItem(in resource, in resources[i - 1]))
            {
                decisions[i] = decisions[i - 1];
                continue;
            }

            var request = new Request(action, in resource, null);
            Prepare(ref request, in resource, actionId);
            var decision = request.Invalid ? new Decision(this, DecisionReason.InvalidRequest)
                : run is null ? StepFourOrFive(table)
                : DecideRun(run, table, subject, ref request, default);
            if (after && decision.Allowed)
            {
                decision = AfterActor(subject, ref request, decision);
            }

            decisions[i] = decision;
        }
    }

    /// <summary>
    /// Whether, for <paramref name="subject"/> (whose table is kept: its set is fixed), a decision depends on nothing but
    /// the item: every subject it acts on behalf of kept its table too (a set that depends on neither the request nor the
    /// time, so no clock is read), and the policy has no approval rules (step 10 reads the clock).
    /// </summary>
    private bool Repeatable(Subject subject)
    {
        if (approvalRules.Length != 0)
        {
            return false;
        }

        for (var link = subject.OnBehalfOf; link is not null; link = link.OnBehalfOf)
        {
            if (link.TableFor(this) is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether two items are the same request: equal name, scope, tier, owner and tags (ordinal; the tags in the same
    /// order). Only what the decision steps read; an unequal pair is simply decided.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SameItem(in ResourceRequest item, in ResourceRequest previous)
        => string.Equals(item.Name, previous.Name, StringComparison.Ordinal)
            && string.Equals(item.Scope, previous.Scope, StringComparison.Ordinal)
            && string.Equals(item.Sensitivity, previous.Sensitivity, StringComparison.Ordinal)
            && string.Equals(item.Owner, previous.Owner, StringComparison.Ordinal)
            && item.Tags.Span.SequenceEqual(previous.Tags.Span);
}
