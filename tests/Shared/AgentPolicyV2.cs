using AiRbac.Yaml;

namespace AiRbac.IntegrationTests;

// Shared by the agent-stack test projects (linked as source): a version 2 policy with a condition on a tool-call argument
// (arg.table), a condition on a host attribute (mfa) and an approval rule on a tool (prod-deploy).

internal static class AgentPolicyV2
{
    public const string Yaml = """
        version: 2
        context:
          mfa: bool
          arg.table: string
          arg.model: string
        roles:
          analyst:
            allow: [ "model:query on model:*", "tool:invoke on tool:report_weekly", "tool:invoke on tool:ops/report_weekly" ]
          sql-reader:
            allow: [ "tool:invoke on tool:sql_query", "tool:invoke on tool:ops/sql_query" ]
            conditions:
              arg.table: "sales_*"
          deployer:
            allow: [ "tool:invoke on tool:deploy_model", "tool:invoke on tool:ops/deploy_model" ]
          payer:
            allow: [ "tool:invoke on tool:wire_money", "tool:invoke on tool:ops/wire_money" ]
            conditions:
              mfa: true
          support-agent:
            kinds: [agent]
            inherits: [analyst, sql-reader, deployer, payer]
          release-manager:
            allow: [ "model:query on model:*" ]
        approvals:
          prod-deploy:
            match: [ "tool:invoke on tool:deploy_model", "tool:invoke on tool:ops/deploy_model" ]
            approvers: [release-manager]
            valid_for: 1h
        bindings:
          subjects:
            rita: { kind: user, roles: [release-manager] }
            alice: { kind: user, roles: [analyst, sql-reader, deployer, payer] }
            support-bot: { kind: agent, roles: [support-agent] }
        """;

    /// <summary>The user (her roles from the policy's bindings).</summary>
    public static readonly Subject Alice = new("alice", SubjectKind.User);

    /// <summary>The agent acting for alice.</summary>
    public static readonly Subject Bot = new Subject("support-bot", SubjectKind.Agent).ActingFor(Alice);

    public static PolicyAuthorizer Authorizer(params IDecisionObserver[] observers)
    {
        var compilation = YamlPolicy.Compile(Yaml, "agent-policy-v2.yaml");
        compilation.Policy.Should().NotBeNull(string.Join(Environment.NewLine, compilation.Diagnostics));
        var authorizer = new PolicyAuthorizer(observers);
        authorizer.Update(compilation.Policy!, new PolicyVersion("v2", DateTimeOffset.UnixEpoch));
        return authorizer;
    }

    /// <summary>
    /// Stands in for the host's approval store: approvals recorded by a trusted approver UI for one call (its id and the
    /// fingerprint shown in the approval request), returned only for exactly that call.
    /// </summary>
    public sealed class ApprovalStore
    {
        private readonly Dictionary<(string CallId, string Fingerprint), List<Approval>> approvals = [];

        public List<string> Asked { get; } = [];

        /// <summary>Records an approval for a call (<paramref name="callId"/> empty: a call without an id, invoked directly).</summary>
        public void Approve(string callId, string fingerprint, Approval approval)
        {
            if (!approvals.TryGetValue((callId, fingerprint), out var list))
            {
                approvals[(callId, fingerprint)] = list = [];
            }

            list.Add(approval);
        }

        public IReadOnlyList<Approval> For(AiRbac.Extensions.AI.AiRbacToolCall call)
        {
            Asked.Add(call.ToolName);
            return approvals.TryGetValue((call.CallId ?? string.Empty, call.Fingerprint), out var list) ? list : [];
        }
    }
}
