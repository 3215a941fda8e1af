using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using SegServe.Inference;
using SegServe.Inference.Models;

namespace SegServe.Api.Binding;

/// <summary>A request record that carries the model it is for, so that the query filter can check parameters against its task.</summary>
public interface IModelRequest
{
    public SegmentationModel Model { get; }
}

/// <summary>
/// Refuses query parameters an endpoint does not take (a misspelt <c>treshold</c> would otherwise be ignored without a
/// word), and parameters that do not apply to the model's task (<c>upsample</c> on an instance model). What an
/// endpoint takes is read once, when the endpoint is built, from its <c>[FromQuery]</c> members.
/// </summary>
public static class QueryParameterFilter
{
    public static TBuilder RejectUnknownQueryParameters<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory(static (factory, next) =>
        {
            QueryContract contract = QueryContract.Of(factory.MethodInfo);
            return context =>
            {
                contract.Check(context);
                return next(context);
            };
        });

    /// <summary>The query parameters of one endpoint, and the task each is limited to.</summary>
    private sealed class QueryContract(Dictionary<string, SegmentationTask?> parameters)
    {
        public static QueryContract Of(MethodInfo handler)
        {
            var parameters = new Dictionary<string, SegmentationTask?>(StringComparer.OrdinalIgnoreCase);
            foreach (ParameterInfo parameter in handler.GetParameters())
            {
                if (parameter.GetCustomAttribute<AsParametersAttribute>() is not null)
                {
                    foreach (PropertyInfo property in parameter.ParameterType.GetProperties())
                    {
                        if (property.GetCustomAttribute<FromQueryAttribute>() is { } query)
                        {
                            parameters[query.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name)] = property.GetCustomAttribute<ForTaskAttribute>()?.Task;
                        }
                    }
                }
                else if (parameter.GetCustomAttribute<FromQueryAttribute>() is { } query)
                {
                    parameters[query.Name ?? JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!)] = null;
                }
            }

            return new QueryContract(parameters);
        }

        public void Check(EndpointFilterInvocationContext context)
        {
            IQueryCollection query = context.HttpContext.Request.Query;
            if (query.Count == 0)
            {
                return;
            }

            List<string>? unknown = null;
            foreach (string key in query.Keys)
            {
                if (!parameters.ContainsKey(key))
                {
                    (unknown ??= []).Add(key);
                }
            }

            if (unknown is not null)
            {
                string known = parameters.Count == 0 ? "none" : string.Join(", ", parameters.Keys.Order(StringComparer.Ordinal));
                throw new InvalidOptionException(
                    unknown[0],
                    query[unknown[0]].ToString(),
                    $"Unknown query parameter{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(static u => $"'{u}'"))}: {context.HttpContext.Request.Method} /{(context.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText?.Trim('/')} takes {known}.");
            }

            SegmentationModel? model = context.Arguments.OfType<IModelRequest>().FirstOrDefault()?.Model;
            if (model?.Manifest is not { } manifest)
            {
                return;
            }

            foreach (string key in query.Keys)
            {
                if (parameters[key] is SegmentationTask task && task != manifest.Task)
                {
                    string canonical = parameters.Keys.First(k => k.Equals(key, StringComparison.OrdinalIgnoreCase));
                    throw new InvalidOptionException(
                        canonical,
                        query[key].ToString(),
                        $"{canonical} applies to {TaskText(task)} models; '{model.Name}' is {(manifest.Task == SegmentationTask.Instance ? "an" : "a")} {TaskText(manifest.Task)} model.");
                }
            }
        }

        private static string TaskText(SegmentationTask task) => task == SegmentationTask.Instance ? "instance" : "semantic";
    }
}
