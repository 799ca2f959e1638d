using System.Security.Claims;

namespace AiRbac.AspNetCore.Tests;

public sealed class AspNetCoreClaimsMappingTests : AiRbac.IntegrationTests.ClaimsMappingTests
{
    protected override Subject Map(ClaimsPrincipal principal, SubjectKind? defaultKind = null)
        => new AiRbacAuthorizationOptions { DefaultKind = defaultKind }.MapPrincipal(principal);

    protected override Func<ClaimsPrincipal, Subject> Mapper() => new AiRbacAuthorizationOptions().MapPrincipal;
}
