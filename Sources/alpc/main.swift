import AlpcCommands

AlpcCommand.main()
