using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using SegServe.Inference.Models;
using SegServe.Inference.Rendering;

namespace SegServe.Api.Binding;

// Query values arrive as text and are checked by ASP.NET Core's minimal-API validation with these attributes, so that
// every bad value is answered alike: a 400 invalid-parameter problem that names the parameter, the value and what is
// allowed. Each derives from the DataAnnotations attribute that means the same (Range, AllowedValues), so OpenAPI
// generators read the ranges and choices from them too.

/// <summary>A number (invariant culture) within a range.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NumberAttribute(double minimum, double maximum) : RangeAttribute(minimum, maximum)
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text || text.Length == 0)
        {
            return ValidationResult.Success;
        }

        double min = (double)Minimum, max = (double)Maximum;
        if (QueryValues.TryNumber(text, out double number) && (MinimumIsExclusive ? number > min : number >= min) && number <= max)
        {
            return ValidationResult.Success;
        }

        string name = QueryValues.NameOf(validationContext);
        return new ValidationResult(
            string.Create(CultureInfo.InvariantCulture, $"{name} must be a number within {min}–{max}{(MinimumIsExclusive ? $" (more than {min})" : "")} (got '{QueryValues.Echo(text)}')."),
            [name]);
    }
}

/// <summary>A whole number (digits, and a minus sign where the range allows) within a range.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class WholeNumberAttribute(long minimum, long maximum) : RangeAttribute(minimum, maximum)
{
    public long Min { get; } = minimum;

    public long Max { get; } = maximum;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text || text.Length == 0)
        {
            return ValidationResult.Success;
        }

        if (QueryValues.TryWholeNumber(text, out long number) && number >= Min && number <= Max)
        {
            return ValidationResult.Success;
        }

        string name = QueryValues.NameOf(validationContext);
        return new ValidationResult(
            string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number within {Min}–{Max} (got '{QueryValues.Echo(text)}')."),
            [name]);
    }
}

/// <summary>One of a few words (case-insensitive).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class OneOfAttribute(params string[] choices) : AllowedValuesAttribute(choices)
{
    public IReadOnlyList<string> Choices { get; } = choices;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text || text.Length == 0 || Choices.Contains(text, StringComparer.OrdinalIgnoreCase))
        {
            return ValidationResult.Success;
        }

        string name = QueryValues.NameOf(validationContext);
        return new ValidationResult($"{name} '{QueryValues.Echo(text)}' is not supported: use {QueryValues.Alternatives(Choices)}.", [name]);
    }
}

/// <summary>A comma-separated list of words, each one of a few (case-insensitive).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ListOfAttribute(params string[] choices) : ValidationAttribute
{
    public IReadOnlyList<string> Choices { get; } = choices;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text)
        {
            return ValidationResult.Success;
        }

        foreach (string part in QueryValues.Items(text))
        {
            if (!Choices.Contains(part, StringComparer.OrdinalIgnoreCase))
            {
                string name = QueryValues.NameOf(validationContext);
                return new ValidationResult($"{name} '{QueryValues.Echo(part)}' is not supported: use {QueryValues.Alternatives(Choices)}, comma-separated.", [name]);
            }
        }

        return ValidationResult.Success;
    }
}

/// <summary><c>true</c> or <c>false</c> (also <c>1</c>/<c>0</c>, <c>yes</c>/<c>no</c>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class FlagAttribute() : AllowedValuesAttribute("true", "false", "1", "0", "yes", "no")
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text || text.Length == 0 || QueryValues.TryFlag(text, out _))
        {
            return ValidationResult.Success;
        }

        string name = QueryValues.NameOf(validationContext);
        return new ValidationResult($"{name} must be true or false (got '{QueryValues.Echo(text)}').", [name]);
    }
}

/// <summary>A colour: <c>#rrggbb</c>, <c>rrggbb</c>, <c>#rgb</c> or a CSS colour name.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ColorAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text || text.Length == 0 || ColorParser.IsColor(text))
        {
            return ValidationResult.Success;
        }

        string name = QueryValues.NameOf(validationContext);
        return new ValidationResult($"{name} '{QueryValues.Echo(text)}' is not a colour: use #rrggbb, rrggbb, #rgb or a CSS colour name.", [name]);
    }
}

/// <summary>The parameter applies only to models of one task; the query filter refuses it for the other.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ForTaskAttribute(SegmentationTask task) : Attribute
{
    public SegmentationTask Task { get; } = task;
}

/// <summary>Reads query values that validation has accepted.</summary>
public static class QueryValues
{
    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static bool TryWholeNumber(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    public static bool TryFlag(string text, out bool value)
    {
        value = text.Equals("true", StringComparison.OrdinalIgnoreCase) || text == "1" || text.Equals("yes", StringComparison.OrdinalIgnoreCase);
        return value || text.Equals("false", StringComparison.OrdinalIgnoreCase) || text == "0" || text.Equals("no", StringComparison.OrdinalIgnoreCase);
    }

    public static double? Number(string? text) => string.IsNullOrEmpty(text) ? null : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static int? WholeNumber(string? text) => string.IsNullOrEmpty(text) ? null : int.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public static long? LongNumber(string? text) => string.IsNullOrEmpty(text) ? null : long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public static bool Flag(string? text) => !string.IsNullOrEmpty(text) && TryFlag(text, out bool value) && value;

    /// <summary>The items of a comma-separated value, trimmed, empty ones left out.</summary>
    public static string[] Items(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The parameter as clients spell it.</summary>
    public static string NameOf(ValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return JsonNamingPolicy.CamelCase.ConvertName(context.MemberName ?? context.DisplayName);
    }

    /// <summary>A client's value as a message repeats it: cut short when long.</summary>
    public static string Echo(string text) => Problems.ProblemCatalog.Shorten(text, Problems.ProblemCatalog.MaxEcho);

    /// <summary>'a', 'b' or 'c'.</summary>
    public static string Alternatives(IReadOnlyList<string> choices) =>
        choices.Count == 1 ? $"'{choices[0]}'" : string.Join(", ", choices.Take(choices.Count - 1).Select(static c => $"'{c}'")) + $" or '{choices[^1]}'";
}

/// <summary>
/// A typical value of a query parameter, for the OpenAPI document where the default depends on the model (so the
/// document cannot state one): Swagger UI shows it, generated clients use it in samples.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ExampleAttribute(string value) : Attribute
{
    public string Value { get; } = value;
}
