using AiRbac.Yaml;

namespace AiRbac.IntegrationTests;

// Shared by the integration test projects (linked as source).

internal static class TestPolicy
{
    public const string Yaml = """
        version: 1
        sensitivity: [public, internal, confidential, restricted]
        resources:
          - match: "tool:patient_*"
            sensitivity: internal
            tags: [phi]
        roles:
          analyst:
            allow:
              - model:query on model:gpt-4o
              - tool:invoke on tool:report_*
              - tool:invoke on tool:search
            deny: [ "tool:invoke on tool:report_secret" ]
            max_sensitivity: internal
          clinician:
            allow: [ "model:query on model:*", "tool:invoke on tool:*" ]
            deny: [ "tool:invoke on tool:delete_*" ]
            max_sensitivity: restricted
            clearances: [phi]
          support-agent:
            kinds: [agent]
            allow: [ "model:query on model:*", "tool:invoke on tool:*" ]
            max_sensitivity: restricted
            clearances: [phi]
        bindings:
          subjects:
            dave: { kind: user, roles: [analyst] }
        """;

    public static readonly Subject Alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
    public static readonly Subject Carol = Subject.WithRoles("carol", SubjectKind.User, "clinician");
    public static readonly Subject Bot = Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent");

    public static PolicyAuthorizer Authorizer()
    {
        var compilation = YamlPolicy.Compile(Yaml, "integration-test.yaml");
        compilation.Policy.Should().NotBeNull(string.Join(Environment.NewLine, compilation.Diagnostics));
        var authorizer = new PolicyAuthorizer();
        authorizer.Update(compilation.Policy!, new PolicyVersion("test", DateTimeOffset.UnixEpoch));
        return authorizer;
    }
}
