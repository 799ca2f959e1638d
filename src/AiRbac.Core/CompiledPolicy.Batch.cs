using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// Batch decisions: one subject (with its on-behalf-of chain) and one action against many resources, for example the
/// candidates a retriever found. Each item goes through the same decision steps as <see cref="Authorize(Subject, string, in ResourceRequest)"/>
/// (<see cref="Decide"/>, <see cref="DecideRun"/>, <see cref="DecideDelegation"/>); what does not depend on the item is
/// resolved once per batch.
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
    /// neither the request nor the time (no scoped or expiring binding in effect), steps 1 to 5 and the search for the
    /// action's run are done once, at the first item that reaches them (or before the first item, for a subject that
    /// kept its table from an earlier decision); a link with scoped or expiring bindings has its effective roles computed
    /// for each item (its set depends on the item's scope and on the clock), by the same code. Once every link of the
    /// chain is resolved, the remaining items go through a loop that does per item only what depends on the item: the
    /// request's part of step 2 and steps 6 to 8 (and 9) on the runs found once. Items are decided in order, each
    /// reading the policy's clock as a single call would.
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

        if (resources.IsEmpty)
        {
            return;
        }

        int actionId = string.IsNullOrEmpty(action) ? -1 : actionIds.Find(action);
        var plans = default(LinkPlans);
        int depth = 0;
        for (var link = subject; link is not null && depth <= BatchLinks; link = link.OnBehalfOf)
        {
            depth++;
        }

        // A chain longer than the plans is decided item by item (its links past the eighth by Decide, per item).
        bool whole = depth <= BatchLinks;
        Span<LinkPlan> links = plans;
        links = links[..Math.Min(depth, BatchLinks)];
        int i = 0;
        while (true)
        {
            // Plans every link whose table is now known: a subject that kept its table (from an earlier decision, or
            // from the item just decided) has a set that depends on neither the request nor the time.
            bool planned = true;
            var link = subject;
            for (int at = 0; at < links.Length; at++, link = link!.OnBehalfOf)
            {
                planned &= links[at].Subject is not null || Plan(ref links[at], link!, actionId);
            }

            if (i == resources.Length || (planned && whole))
            {
                break;
            }

            var request = new Request(action, in resources[i]);
            Prepare(ref request, actionId);
            var actor = DecideLink(subject, ref request, links, 0);
            decisions[i] = actor.Allowed && subject.OnBehalfOf is not null ? DecideDelegation(subject, ref request, actor, links) : actor;
            i++;
        }

        if (i < resources.Length)
        {
            DecidePlanned(action, actionId, resources[i..], decisions[i..], links);
        }
    }

    /// <summary>
    /// The items of a batch whose every link is planned: per item, the request's part of step 2 (<see cref="Prepare(ref Request, int)"/>),
    /// steps 6 to 8 on the actor's run (<see cref="DecideRun"/>, inlined here), and step 9 down the chain
    /// (<see cref="DecideDelegation"/> on the links' runs); steps 1, 3, 4 and 5 and the subject's part of step 2 were
    /// answered once, when the links were planned.
    /// </summary>
    private void DecidePlanned(string action, int actionId, ReadOnlySpan<ResourceRequest> resources, Span<Decision> decisions, Span<LinkPlan> links)
    {
        decisions = decisions[..resources.Length];
        var subject = links[0].Subject!;
        var run = links[0].Run;
        var early = links[0].Early;
        bool chain = links.Length > 1;
        for (int i = 0; i < resources.Length; i++)
        {
            var request = new Request(action, in resources[i]);
            Prepare(ref request, actionId);
            var decision = request.Invalid ? new Decision(this, DecisionReason.InvalidRequest)
                : run is null ? early
                : DecideRun(run, subject, ref request);
            if (chain && decision.Allowed)
            {
                decision = DecideDelegation(subject, ref request, decision, links);
            }

            decisions[i] = decision;
        }
    }

    /// <summary>
    /// Plans link <paramref name="link"/> of a batch when it kept its table for this policy (<see cref="Decide"/> keeps it
    /// only when its set depends on neither the request nor the time): steps 4 and 5 and the action's run, once
    /// (<see cref="RunOf"/>). False when it has no such table (yet).
    /// </summary>
    private bool Plan(ref LinkPlan plan, Subject link, int actionId)
    {
        if (link.Table is not { } table || !ReferenceEquals(table.Policy, this))
        {
            return false;
        }

        plan.Run = RunOf(table, actionId, out plan.Early);
        plan.Subject = link;
        return true;
    }

    /// <summary>
    /// Steps 1 to 8 for link <paramref name="at"/> of a chain (0: the actor): a planned link (its set fixed, its table and
    /// run found once) goes straight to the request's part of step 2 and <see cref="DecideRun"/>, exactly as
    /// <see cref="Decide"/> does for a subject that kept its table; any other link to <see cref="Decide"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Decision DecideLink(Subject subject, ref Request request, Span<LinkPlan> links, int at)
    {
        if ((uint)at >= (uint)links.Length || links[at].Subject is null)
        {
            return Decide(subject, ref request);
        }

        ref var plan = ref links[at];
        return request.Invalid ? new Decision(this, DecisionReason.InvalidRequest)
            : plan.Run is { } run ? DecideRun(run, subject, ref request)
            : plan.Early;
    }

    /// <summary>
    /// What a batch resolved once for one link of the chain whose set is fixed: the subject (set once planned), the run of
    /// the batch's action in its table, or the decision of step 4 or 5 when there is no run to scan.
    /// </summary>
    private struct LinkPlan
    {
        public Subject? Subject;
        public RunTable? Run;
        public Decision Early;
    }

    /// <summary>The plans of a batch's first <see cref="BatchLinks"/> links, on the stack.</summary>
    [InlineArray(BatchLinks)]
    private struct LinkPlans
    {
        private LinkPlan first;
    }
}
