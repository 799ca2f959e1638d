using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// Batch decisions: one subject (with its on-behalf-of chain) and one action against many resources, for example the
/// candidates a retriever found. Each item goes through the same decision steps as <see cref="Authorize(Subject, string, in ResourceRequest)"/>
/// (<see cref="DecideChain"/>); what does not depend on the item is resolved once per batch.
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>How many links of an on-behalf-of chain (the actor first) a batch resolves once; links past it are resolved per item, by the same code.</summary>
    internal const int BatchLinks = Tuning.Batch.ChainLinks;

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
    /// The action is looked up once. For each link of the chain (the first eight) whose effective role set depends on
    /// neither the request nor the time (no scoped or expiring binding in effect), steps 1 to 3 and the search for the
    /// action's run are done once, at the first item that reaches them; a link with scoped or expiring bindings has its
    /// effective roles computed for each item (its set depends on the item's scope and on the clock), by the same code.
    /// Items are decided in order, each reading the policy's clock as a single call would.
    /// </remarks>
    public void AuthorizeMany(Subject subject, string action, ReadOnlySpan<ResourceRequest> resources, Span<Decision> decisions)
    {
        if (decisions.Length != resources.Length)
        {
            decisions.Clear(); // no partial answer: a caller that ignores the exception finds denials only
            throw new ArgumentException(
                $"decisions has {decisions.Length} elements but resources has {resources.Length}; they must be equally long",
                nameof(decisions));
        }

        if (subject is null)
        {
            decisions.Fill(new Decision(this, DecisionReason.MissingIdentity));
            return;
        }

        int actionId = string.IsNullOrEmpty(action) ? -1 : actionIds.Find(action);
        var plans = default(LinkPlans);
        int depth = 0;
        for (var link = subject; link is not null && depth < BatchLinks; link = link.OnBehalfOf)
        {
            depth++;
        }

        Span<LinkPlan> links = plans;
        links = links[..depth];
        for (int i = 0; i < resources.Length; i++)
        {
            var request = new Request(action, in resources[i], null);
            Prepare(ref request, actionId);
            decisions[i] = DecideChain(subject, ref request, links);
        }
    }

    /// <summary>
    /// Steps 1 to 8 for link <paramref name="at"/> of a chain (0: the actor). Within a batch, a link whose table was
    /// found once (its set fixed) goes straight to <see cref="DecideOn"/>, as <see cref="Decide"/> itself does for a
    /// subject that kept its table; otherwise <see cref="Decide"/>, after which a fixed set's table is kept for the
    /// batch's next items.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Decision DecideLink(Subject subject, ref Request request, Span<LinkPlan> links, int at)
    {
        if ((uint)at >= (uint)links.Length)
        {
            return Decide(subject, ref request);
        }

        ref var plan = ref links[at];
        if (plan.Table is { } table)
        {
            return DecideOn(table, subject, ref request, ref plan.Run, default);
        }

        var decision = Decide(subject, ref request);

        // Decide keeps the table on the subject only when its set depends on neither the request nor the time.
        if (subject.Table is { } kept && ReferenceEquals(kept.Policy, this))
        {
            plan.Table = kept;
        }

        return decision;
    }

    /// <summary>What a batch resolved once for one link of the chain: its fixed set's table and the run of the batch's action in it.</summary>
    private struct LinkPlan
    {
        public RoleSetTable? Table;
        public RunTable? Run;
    }

    /// <summary>The plans of a batch's first <see cref="BatchLinks"/> links, on the stack.</summary>
    [InlineArray(BatchLinks)]
    private struct LinkPlans
    {
        private LinkPlan first;
    }
}
