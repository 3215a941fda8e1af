using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SegServe.Api.Problems;

namespace SegServe.Api.Security;

/// <summary>How many requests one caller may make, bound from <c>RateLimiting</c>.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Whether requests are rate limited at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests per second one caller (a key, or an address without a key) is given.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Requests one caller may make at once above the rate (the bucket's size).</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 200;
}

/// <summary>Which browser origins may call the API, bound from <c>Cors</c>; none by default.</summary>
public sealed class CorsSettings
{
    public const string SectionName = "Cors";

    /// <summary>Origins allowed to call the API from a browser, e.g. <c>https://app.example.com</c>; empty: CORS off.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

/// <summary>Keys and roles, rate limits per caller, CORS.</summary>
public static class SecurityExtensions
{
    /// <summary>The rate-limiting policy of the API's endpoints.</summary>
    public const string PerCallerPolicy = "per-caller";

    public static IServiceCollection AddSegServeSecurity(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.SectionName)
            .Validate(static o => o.ApiKeys.TrueForAll(static k => Validator.TryValidateObject(k, new ValidationContext(k), null, validateAllProperties: true)),
                "Authentication:ApiKeys: every key needs a Name and its SHA-256 as 64 hex digits (never the key itself).")
            .Validate(static o => o.ApiKeys.Select(static k => k.Name).Distinct(StringComparer.Ordinal).Count() == o.ApiKeys.Count, "Authentication:ApiKeys: names must be unique.")
            .ValidateOnStart();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.UserPolicy, static p => p.RequireAuthenticatedUser().RequireRole(Roles.User, Roles.Admin))
            .AddPolicy(Roles.AdminPolicy, static p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin));

        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(static limiter =>
        {
            limiter.AddPolicy(PerCallerPolicy, static context =>
            {
                RateLimitOptions settings = context.RequestServices.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue;
                if (!settings.Enabled)
                {
                    return RateLimitPartition.GetNoLimiter("off");
                }

                return RateLimitPartition.GetTokenBucketLimiter(CallerOf(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = settings.Burst,
                    TokensPerPeriod = settings.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = static (context, _) =>
            {
                TimeSpan retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan wait) ? wait : TimeSpan.FromSeconds(1);
                return new ValueTask(ProblemWriter.WriteAsync(
                    context.HttpContext,
                    new Problem(ProblemCatalog.RateLimited, $"'{CallerOf(context.HttpContext)}' sent more requests than its rate allows; try again in about {Math.Ceiling(retryAfter.TotalSeconds):0} s.", retryAfter)));
            };
        });

        services.AddOptions<CorsSettings>().BindConfiguration(CorsSettings.SectionName);
        services.AddCors();
        return services;
    }

    public static WebApplication UseSegServeSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        List<string> origins = app.Services.GetRequiredService<IOptions<CorsSettings>>().Value.AllowedOrigins;
        if (origins.Count > 0)
        {
            app.UseCors(policy => policy.WithOrigins([.. origins]).AllowAnyHeader().WithMethods("GET", "POST").WithExposedHeaders("Retry-After", "Server-Timing"));
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The API's endpoints: a user (or admin) key, or anonymous access while it is allowed; rate limited per caller.</summary>
    public static TBuilder RequireUser<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Roles.UserPolicy).RequireRateLimiting(PerCallerPolicy);

    /// <summary>Who a caller is, for limits and ownership: the key's name, or the address of a caller without one.</summary>
    public static string CallerOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? name = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null;
        return name is not null && name != Roles.Anonymous
            ? name
            : $"{Roles.Anonymous}@{context.Connection.RemoteIpAddress?.ToString() ?? "local"}";
    }

    /// <summary>The owner of what a caller creates: its key's name, or <c>anonymous</c>.</summary>
    public static string OwnerOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true && user.Identity.Name is string name ? name : Roles.Anonymous;
    }
}
