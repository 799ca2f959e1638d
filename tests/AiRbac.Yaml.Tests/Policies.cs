namespace AiRbac.Yaml.Tests;

/// <summary>Policies shared by the tests.</summary>
internal static class Policies
{
    /// <summary>The example policy of docs/policy-language.md, section 2, verbatim (line numbers matter to the tests).</summary>
    public const string SpecExample = """
        version: 1
        sensitivity: [public, internal, confidential, restricted]  # optional; lowest first
        default_sensitivity: public                                 # optional; tier of unclassified resources

        roles:
          viewer:
            description: Read approved outputs
            allow:
              - data:read on output:*
            max_sensitivity: internal
          analyst:
            id: r-analyst                    # optional stable id (defaults to the name); ids are unique
            inherits: [viewer]
            allow:
              - model:query on model:gpt-4o
              - tool:invoke on tool:search
              - tool:invoke on tool:report_*
            deny:
              - tool:invoke on tool:dangerous_*
            max_sensitivity: confidential
          clinician:
            allow: [ "model:query on model:clinical-*" ]
            max_sensitivity: confidential
            clearances: [phi]
          release-bot:
            kinds: [service]                 # the role takes effect only for these subject kinds
            allow: [ "model:deploy on model:*" ]
            max_sensitivity: confidential
          policy-engineer:
            allow: [ "config:write on config:*" ]
          deploy-approver:
            allow: [ "config:approve on config:*" ]
          admin:
            kinds: [user]                    # an agent or service carrying admin gets nothing from it
            allow: [ "* on **" ]
            max_sensitivity: restricted
            clearances: [phi, pii]

        resources:                           # optional catalog; first match wins, in file order
          - match: dataset:claims/**
            sensitivity: restricted
            tags: [phi]
          - match: model:clinical-*
            sensitivity: confidential
            tags: [phi]

        constraints:
          mutually_exclusive:                # static separation of duties
            - [policy-engineer, deploy-approver]
          not_by_owner: [config:approve, model:promote]   # two-person rule
          min_holders: { admin: 2 }          # lint checks it against `bindings` (here: a warning, only bob)

        bindings:                            # optional static assignments (usually an IdP supplies them)
          groups:
            research: [analyst]
          subjects:
            alice:  { kind: user, roles: [analyst], groups: [research] }
            bob:    { kind: user, roles: [admin] }
            nightly-pipeline: { kind: service, roles: [release-bot], scope: acme/product-design, expires: 2099-12-31T00:00:00Z }
        """;

    /// <summary>The smallest valid policy.</summary>
    public const string Minimal = """
        version: 1
        roles:
          viewer: {}
        """;

    /// <summary>The (line, column) of the <paramref name="occurrence"/>-th appearance of <paramref name="needle"/>, both 1-based.</summary>
    public static (int Line, int Column) Find(string yaml, string needle, int occurrence = 1)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var from = 0;
            while ((from = lines[i].IndexOf(needle, from, StringComparison.Ordinal)) >= 0)
            {
                if (--occurrence == 0)
                {
                    return (i + 1, from + 1);
                }

                from++;
            }
        }

        throw new ArgumentException($"'{needle}' not found", nameof(needle));
    }
}
