[assembly: AssemblyFixture(typeof(SegServe.Api.FunctionalTests.Infrastructure.LeakReport))]
