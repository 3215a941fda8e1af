using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SegServe.Api.Problems;

namespace SegServe.Api.Security;

/// <summary>
/// API keys in <c>X-Api-Key</c> or <c>Authorization: Bearer</c>, looked up by their SHA-256 (the configuration never
/// holds a key, and a lookup by hash compares nothing a timing could reveal). No key is anonymous — served only while
/// anonymous access is on; a key the service does not know is refused (401), never treated as anonymous.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<ApiKeyOptions> keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        ApiKeyOptions settings = keys.CurrentValue;
        string? presented = PresentedKey(Request);
        if (presented is null)
        {
            return Task.FromResult(settings.AllowAnonymous
                ? AuthenticateResult.Success(Ticket(Roles.Anonymous, settings.AnonymousRoles))
                : AuthenticateResult.NoResult());
        }

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
        foreach (ApiKey key in settings.ApiKeys)
        {
            if (string.Equals(key.Sha256, hash, StringComparison.OrdinalIgnoreCase))
            {
                return Task.FromResult(AuthenticateResult.Success(Ticket(key.Name, key.Roles)));
            }
        }

        return Task.FromResult(AuthenticateResult.Fail("The API key is not one this service knows."));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"Bearer realm=\"segserve\", {Header}";
        bool presented = PresentedKey(Request) is not null;
        return WriteAsync(
            ProblemCatalog.Unauthorized,
            presented
                ? "The API key is not one this service knows: send a valid key in X-Api-Key or Authorization: Bearer."
                : "This service needs an API key: send it in X-Api-Key or Authorization: Bearer.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteAsync(ProblemCatalog.Forbidden, $"The key '{Context.User.Identity?.Name}' may not {Request.Method} {Request.Path}: it needs the admin role.");

    private static string? PresentedKey(HttpRequest request)
    {
        string? header = request.Headers[Header];
        if (!string.IsNullOrEmpty(header))
        {
            return header;
        }

        string? authorization = request.Headers.Authorization;
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
    }

    private static AuthenticationTicket Ticket(string name, IEnumerable<string> roles)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(roles.Select(static role => new Claim(ClaimTypes.Role, role)));
        return new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName);
    }

    private Task WriteAsync(ProblemKind kind, string detail) => ProblemWriter.WriteAsync(Context, new Problem(kind, detail));
}
