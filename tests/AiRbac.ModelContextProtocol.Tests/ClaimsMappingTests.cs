using System.Security.Claims;

namespace AiRbac.ModelContextProtocol.Tests;

public sealed class McpClaimsMappingTests : AiRbac.IntegrationTests.ClaimsMappingTests
{
    protected override Subject Map(ClaimsPrincipal principal, SubjectKind? defaultKind = null)
        => new AiRbacMcpOptions { DefaultKind = defaultKind }.MapPrincipal(principal);

    protected override Func<ClaimsPrincipal, Subject> Mapper() => new AiRbacMcpOptions().MapPrincipal;
}
